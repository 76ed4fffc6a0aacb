from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import desk, exports, selectors
from .audit import record_export
from .health import health_report
from .models import ExportStatus, Role
from .scoping import actor_role
from .views_helpers import paginate, role_required

# The roles with something to export (caregivers have none).
EXPORTERS = (Role.BUREAU, Role.FINANCE, Role.TOWN, Role.PROVIDER)


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("portal:home")


@login_required
def portal_home(request):
    """The desk (工作台): what waits for this person, then their usual pages. A caregiver's desk is the day."""
    role = actor_role(request.user)
    if role == Role.CAREGIVER:
        return redirect("services:caregiver_day")
    items = desk.desk_items(actor=request.user)
    return render(
        request,
        "portal/home.html",
        {
            "role": role,
            "Role": Role,
            "desk_groups": desk.desk_groups(items),
            "waiting": sum(item.count for item in items),
        },
    )


@role_required(*EXPORTERS)
def export_list(request):
    """My exports of the last days, newest first (each person sees only their own)."""
    page = paginate(request, selectors.export_job_list(actor=request.user), per_page=50)
    return render(request, "portal/export_list.html", {"page": page})


@role_required(*EXPORTERS)
def export_detail(request, pk):
    """The result page: a progress bar while the file is built, then its download link (or why it failed)."""
    job = selectors.export_job_get_for_actor(actor=request.user, pk=pk)
    return render(request, "portal/export_detail.html", {"job": job, **selectors.export_job_progress(job)})


@role_required(*EXPORTERS)
def export_progress(request, pk):
    job = selectors.export_job_get_for_actor(actor=request.user, pk=pk)
    return JsonResponse(selectors.export_job_progress(job))


@role_required(*EXPORTERS)
def export_download(request, pk):
    job = selectors.export_job_get_for_actor(actor=request.user, pk=pk)
    if job.status != ExportStatus.DONE:
        return redirect("portal:export_detail", pk=job.pk)
    try:
        content = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("该导出文件已被清理，请重新导出。") from None
    response = FileResponse(
        content, as_attachment=True, filename=job.file_name, content_type=exports.content_type_of(job.kind)
    )
    response["Cache-Control"] = "private, no-store"  # office PCs are shared: no copy left in a cache
    # The trail must say what the file held after the job itself is cleaned up (7 days; the trail is kept longer):
    # the kind, the parameters, whose scope it was built in, and the builder's summary.
    record_export(
        user=request.user,
        request=request,
        what=job.kind_title,
        export=job.kind,
        params=job.params,
        scope=job.scope,
        job=job.pk,
        file=job.file_name,
        summary=job.summary,
    )
    return response


@never_cache
@require_GET
def healthz(request):
    """For the operator's monitor and the load balancer: 200 when everything is alive, else 503. No sign-in."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
