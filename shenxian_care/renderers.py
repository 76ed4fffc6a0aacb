"""The API's renderers: JSON, and DRF's browsable API for a person who opens /api/v1/… in a browser, without forms.

DRF's browsable API draws an HTML form for each write a view allows and a form for its filters. Their choices of a
related field (a recipient, a provider) come from the serializer's or filter's whole queryset, not the viewer's
scope: a town official would see every recipient of the county in a drop-down. The lists and objects themselves are
scoped, so the browsable API keeps them and the raw JSON box for a write, and draws no form.
"""

from rest_framework.renderers import BrowsableAPIRenderer


class BrowsableAPIWithoutFormsRenderer(BrowsableAPIRenderer):
    def render_form_for_serializer(self, serializer):
        return None

    def get_filter_form(self, data, view, request):
        return None
