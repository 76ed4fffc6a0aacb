"""What happens to a recipient that apps further down the layers must act on, without this app importing them:
when support ends (an approved exit), contracts ends the recipient's agreements and tells the provider; when a
level is approved or a roster applied, the providers concerned are told (名单变动).

Handlers are registered once, by name, in the subscribing app's `ready()`, and run synchronously inside the
publishing action's transaction: if one fails, the approval fails with it, so an exit can never be approved
while its agreement reads 已签订 … 至 长期."""

SUPPORT_ENDED = "support_ended"  # recipient, exit_date, reason (Chinese label), actor
LEVEL_APPROVED = "level_approved"  # recipient, level, effective_date, actor
ROSTER_APPLIED = "roster_applied"  # roster, diff, actor

_handlers: dict[str, list] = {SUPPORT_ENDED: [], LEVEL_APPROVED: [], ROSTER_APPLIED: []}


def subscribe(event, handler):
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def publish(event, **payload):
    for handler in _handlers[event]:
        handler(**payload)
