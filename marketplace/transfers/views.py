"""Transfers of ownership (services/transfers.py): a claim's document as a download, and an
organisation's register of what it gave and received, as a page and as CSV."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..extensions import db
from ..impact.views import csv_response
from ..models import Organisation, Transfer
from ..security import Action, permitted
from ..services import transfers
from ..services.urls import external_url
from ..web import require

bp = Blueprint("transfers", __name__)


@bp.app_template_global()
def transfer_document_url(transfer: Transfer) -> str:
    """The document's absolute link (for the collected mail, rendered outside a request too)."""
    return external_url("transfers.document", claim_id=transfer.claim_id)


@bp.route("/claims/<int:claim_id>/transfer.pdf")
@login_required
def document(claim_id: int) -> Response:
    """The PDF, to both organisations' members and platform admins; 404 to anyone else, and
    while there is none (not collected, or not made yet). Always a download."""
    transfer = transfers.transfer_of_claim(claim_id)
    if transfer is None or not permitted(current_user, Action.VIEW_TRANSFER, transfer):
        abort(404)
    try:
        data = transfers.read_document(transfer)
    except FileNotFoundError:
        abort(404)
    except OSError:
        current_app.logger.exception("Could not read transfer document %s",
                                     transfer.document_key)
        abort(503)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"{transfer.reference}.pdf",
                         etag=transfer.document_sha256 or False, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    require(Action.VIEW_TRANSFER, organisation)
    return organisation


@bp.route("/organisations/<int:organisation_id>/transfers")
@login_required
def register(organisation_id: int) -> str:
    organisation = _organisation(organisation_id)
    rows = [(transfer, transfers.direction(transfer, organisation),
             transfers.other_side(transfer, organisation))
            for transfer in transfers.transfers_of(organisation)]
    return render_template("organisations/transfers.html", organisation=organisation,
                           rows=rows)


@bp.route("/organisations/<int:organisation_id>/transfers.csv")
@login_required
def register_csv(organisation_id: int) -> Response:
    organisation = _organisation(organisation_id)
    return csv_response(transfers.csv_rows(organisation),
                        f"transfers-organisation-{organisation.id}.csv")
