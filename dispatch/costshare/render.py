"""The monthly statement as CSV (one row per organisation, the figures it rests on) and as PDF (fpdf2)."""
from __future__ import annotations

import csv
import io
from typing import Any

from fpdf import FPDF

COLUMNS = ("month", "organisation_code", "organisation_name", "role", "calls", "visits", "care_minutes",
           "travel_minutes", "clients_in_care", "share_percent", "amount_eur", "pays_to_runner_eur", "receives_eur")


def to_csv(statement: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in statement["organisations"]:
        f = row["figures"]
        writer.writerow([statement["month"], row["organisation"]["code"], _cell(row["organisation"]["name"]),
                         row["role"], f["calls"], f["visits"], f["care_minutes"], f["travel_minutes"],
                         f["clients_in_care"], row["share_percent"], row["amount_eur"], row["pays_to_runner_eur"],
                         row["receives_eur"]])
    return out.getvalue()


def _cell(value: str) -> str:
    """No formula injection when the CSV is opened in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _latin1(text: str) -> str:
    """The PDF's core font (Helvetica) covers Latin-1: Dutch names fit; anything else becomes '?'."""
    return text.replace("€", "EUR").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def to_pdf(statement: dict[str, Any]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"nightcare cost share {statement['month']}")
    pdf.set_creator("nightcare")
    a = statement["agreement"]
    for row in statement["organisations"]:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, _latin1(f"Night team cost share, {statement['month']}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 8, _latin1(row["organisation"]["name"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        terms = (f"Agreement {a['id']} ({a['first_month']} to {a['last_month'] or 'further notice'}): "
                 f"{statement['runner']['name']} runs the night team at EUR {statement['monthly_cost_eur']} a month; "
                 f"model {a['model']}" + (f", weights {a['weights']}" if a["model"] == "mix" else "")
                 + (f", shares {a['shares']} %" if a["shares"] else "") + f". Times in {statement['time_zone']}.")
        pdf.multi_cell(0, 5, _latin1(terms), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        f, r = row["figures"], statement["region_figures"]
        lines = [("", "organisation", "all participants")]
        for key, label in (("calls", "Calls"), ("visits", "Visits completed"), ("care_minutes", "Care minutes"),
                           ("travel_minutes", "Travel minutes"), ("clients_in_care", "Clients in care")):
            lines.append((label, str(f[key]), str(r[key])))
        pdf.set_font("Helvetica", "", 10)
        for label, own, region in lines:
            pdf.cell(60, 6, _latin1(label), border=1)
            pdf.cell(45, 6, own, border=1, align="R")
            pdf.cell(45, 6, region, border=1, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, f"Share: {row['share_percent']} %   Amount: EUR {row['amount_eur']}", new_x="LMARGIN",
                 new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        if row["role"] == "contributes":
            settle = f"To pay to {statement['runner']['name']}: EUR {row['pays_to_runner_eur']}."
        else:
            settle = (f"Runs the night team: bears EUR {row['amount_eur']} itself and receives "
                      f"EUR {row['receives_eur']} from the other participants.")
        pdf.multi_cell(0, 5, _latin1(settle), new_x="LMARGIN", new_y="NEXT")
        for note in statement["notes"]:
            pdf.multi_cell(0, 5, _latin1(f"Note: {note}"), new_x="LMARGIN", new_y="NEXT")
    if not statement["organisations"]:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(0, 8, "No statement.")
    return bytes(pdf.output())
