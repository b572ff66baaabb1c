"""The validation report as one self-contained HTML page: inline SVG charts, no scripts.

Each chart is drawn from the same data the JSON holds, so a reviewer can redraw or check
any figure from the JSON alone. The page needs no network access and runs no JavaScript.
"""

from __future__ import annotations

import html
import io
import math
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from credit_scoring.models.plots import use_file_backend

use_file_backend()

LIGHT_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}
STATUS_COLOURS = {"stable": "#2e7d32", "watch": "#f9a825", "shift": "#c62828"}
EFFECT_COLOURS = {"as expected": "#2e7d32", "flat": "#f9a825", "reversed": "#c62828"}
COLOURS = {**LIGHT_COLOURS, **STATUS_COLOURS, **EFFECT_COLOURS}
"""Cell values drawn with a coloured dot: Jeffreys lights, PSI statuses, feature effects."""

VERDICT_COLOURS = {"fit for use": "#2e7d32", "fit with findings": "#f9a825",
                   "not fit": "#c62828"}
SEVERITY_COLOURS = {"high": "#c62828", "medium": "#f9a825", "low": "#90a4ae"}

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #bbb; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
td.text { text-align: left; } td.nowrap { white-space: nowrap; } td.long { min-width: 14em; overflow-wrap: anywhere; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
.light { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 50%; }
.verdict { font-size: 1.3em; font-weight: 700; padding: 0.4em 0.8em; color: #fff;
           display: inline-block; border-radius: 0.3em; }
nav ol { columns: 2; } .note { color: #555; font-size: 0.9em; }
.alarm { color: #c62828; font-weight: 700; border-left: 4px solid #c62828; padding-left: 0.6em; }
@media (max-width: 600px) { nav ol { columns: 1; } body { margin: 1em auto; } }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9pt; }
  .scroll { overflow: visible; }
  table { font-size: 7pt; width: 100%; table-layout: auto; }
  th, td { padding: 0.1em 0.3em; overflow-wrap: anywhere; }
  td.long { min-width: 0; }
  tr, figure { break-inside: avoid; } h2 { break-after: avoid; }
  section#model-card, section#discrimination { break-before: page; }
}
"""


@dataclass(frozen=True)
class Table:
    """A table block: an optional caption (its heading), and columns whose values link to
    the section of that id."""

    frame: pd.DataFrame
    caption: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Items:
    """A bulleted list under a heading."""

    heading: str
    items: list[str]


@dataclass(frozen=True)
class Link:
    text: str
    href: str


def svg(figure: Figure) -> str:
    """A matplotlib figure as inline SVG markup (closed after drawing).

    Text stays text (not glyph outlines): a reader can search and copy a chart's labels,
    and the page is half the size.
    """
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def table_html(table: pd.DataFrame | Table, digits: int = 4) -> str:
    """A table as HTML in a box that scrolls sideways on a narrow screen; lights and
    statuses (``COLOURS``) and severities drawn as coloured dots; long text left-aligned."""
    block = table if isinstance(table, Table) else Table(table)

    def cell(column: str, value: Any) -> str:
        if column in block.links:
            return f"<td><a href='#{html.escape(str(value))}'>{html.escape(str(value))}</a></td>"
        if isinstance(value, str) and (value in COLOURS or column == "severity"):
            colour = COLOURS.get(value) or SEVERITY_COLOURS.get(value, "#888")
            return (f'<td class="nowrap"><span class="light" style="background:{colour}">'
                    f'</span> {value}</td>')
        if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return "<td></td>"  # a missing value, of any dtype, is an empty cell
        if isinstance(value, float):
            return f"<td>{value:.{digits}f}</td>"
        if not isinstance(value, str):
            return f"<td>{html.escape(str(value))}</td>"
        return f"<td class='text{' long' * (len(value) > 40)}'>{html.escape(value)}</td>"

    columns = [str(c) for c in block.frame.columns]
    caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(columns, row, strict=True))
                   + "</tr>" for row in block.frame.itertuples(index=False))
    return (f"<div class='scroll'><table>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")


def block_html(block: Any) -> str:
    """A section's block: a table, a bulleted list, a link or a figure (SVG markup)."""
    if isinstance(block, pd.DataFrame | Table):
        return table_html(block)
    if isinstance(block, Items):
        return (f"<h3>{html.escape(block.heading)}</h3><ul>"
                + "".join(f"<li>{html.escape(item)}</li>" for item in block.items) + "</ul>")
    if isinstance(block, Link):
        return f"<p><a href='{html.escape(block.href)}'>{html.escape(block.text)}</a></p>"
    return f"<figure>{block}</figure>"


def _axes(title: str, xlabel: str, ylabel: str, size=(6.4, 4.6)):
    figure, ax = plt.subplots(figsize=size, layout="constrained")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return figure, ax


def roc_figure(curves: dict[str, Any], table: pd.DataFrame) -> Figure:
    figure, ax = _axes("ROC curve", "share of goods declined (false positive rate)",
                       "share of bads declined (true positive rate)")
    for row in table.itertuples():
        curve = curves[row.sample]["roc"]
        ax.plot(curve["x"], curve["y"],
                label=f"{row.sample}: AUC {row.auc:.3f} [{row.auc_low:.3f}, {row.auc_high:.3f}]")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="random")
    ax.legend(loc="lower right")
    return figure


def cap_figure(curves: dict[str, Any], table: pd.DataFrame) -> Figure:
    figure, ax = _axes("Cumulative accuracy profile (CAP)", "share of applicants, riskiest first",
                       "share of all bads")
    for row in table.itertuples():
        curve = curves[row.sample]["cap"]
        ax.plot(curve["x"], curve["y"], label=f"{row.sample}: accuracy ratio {row.gini:.3f}")
    rate = curves[table["sample"].iloc[-1]]["bad_rate"]
    ax.plot([0, rate, 1], [0, 1, 1], "--", color="black", lw=0.8, label="perfect (test)")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="random")
    ax.legend(loc="lower right")
    return figure


def ks_figure(curves: dict[str, Any], table: pd.DataFrame) -> Figure:
    sample = table["sample"].iloc[-1]
    curve, ks = curves[sample]["ks"], table["ks"].iloc[-1]
    figure, ax = _axes(f"KS, {sample}: {ks:.3f}", "PD cut-off (decline at or above)",
                       "share declined")
    ax.plot(curve["pd"], curve["bads_above"], label="bads")
    ax.plot(curve["pd"], curve["goods_above"], label="goods")
    gaps = [b - g for b, g in zip(curve["bads_above"], curve["goods_above"], strict=True)]
    at = gaps.index(max(gaps))
    ax.vlines(curve["pd"][at], curve["goods_above"][at], curve["bads_above"][at], color="black",
              label=f"largest gap {max(gaps):.3f} at PD {curve['pd'][at]:.3f}")
    ax.set_xlim(0, 1)
    ax.legend()
    return figure


def reliability_figure(reliability: dict[str, Any]) -> Figure:
    figure, ax = _axes("Reliability: observed default rate per PD group", "mean PD",
                       "observed default rate")
    for name, groups in reliability.items():
        ax.plot(groups["mean_pd"], groups["default_rate"], "o-", label=name)
    top = max(max(g["mean_pd"] + g["default_rate"]) for g in reliability.values())
    ax.plot([0, top], [0, top], ":", color="grey", label="perfectly calibrated")
    ax.legend()
    return figure


def band_figure(bands: pd.DataFrame, sample: str) -> Figure:
    rows = bands[bands["sample"] == sample]
    figure, ax = _axes(f"Default rate per score band with Jeffreys interval, {sample}",
                       "score band (1 = riskiest)", "rate")
    ax.errorbar(rows["band"], rows["default_rate"],
                yerr=[rows["default_rate"] - rows["dr_low"], rows["dr_high"] - rows["default_rate"]],
                fmt="none", ecolor="grey", capsize=3)
    ax.scatter(rows["band"], rows["default_rate"], c=[LIGHT_COLOURS[c] for c in rows["light"]],
               zorder=3, label="observed default rate (colour: Jeffreys light)")
    ax.plot(rows["band"], rows["mean_pd"], "kx", label="mean PD")
    ax.legend()
    return figure


def stability_figure(table: pd.DataFrame, watch: float, alarm: float, top: int = 20) -> Figure:
    shown = table.head(top).iloc[::-1]
    figure, ax = _axes("", "PSI / CSI", "", size=(6.4, 0.28 * len(shown) + 1.4))
    figure.suptitle("Population stability, test vs development")  # over long labels
    ax.barh([f"{v} ({k})" for v, k in zip(shown["variable"], shown["kind"], strict=True)],
            shown["index"], color=[STATUS_COLOURS[s] for s in shown["status"]])
    for value, style in ((watch, "--"), (alarm, "-")):
        ax.axvline(value, color="grey", linestyle=style)
    return figure


def vintage_figure(table: pd.DataFrame, auc_floor: float, approval_rate: float,
                   watch: float, alarm: float) -> Figure:
    """Four panels over the application date, one line per sample: AUC with its interval
    (the in-time AUC less the finding's tolerance drawn), default rate against mean PD with
    the Jeffreys interval, approval rate at the cut-off (the development rate drawn) and the
    score PSI (watch and alarm drawn). A vertical line marks where out of time starts."""
    figure, axes = plt.subplots(2, 2, figsize=(9.6, 6.4), sharex=True, layout="constrained")
    figure.suptitle("By vintage (application date)")
    later = table.loc[table["sample"] == "test", "start"]
    for ax, (title, column, line, label) in zip(axes.flat, (
            ("AUC", "auc", auc_floor, "in-time AUC - tolerance"),
            ("default rate (dots) vs mean PD (x)", "default_rate", None, None),
            ("approval rate at the cut-off", "approval_rate", approval_rate, "development"),
            ("score PSI against development", "psi", None, None)), strict=True):
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        for sample, rows in table.groupby("sample", sort=False):
            drawn = ax.plot(rows["start"], rows[column], "o-", ms=3, label=sample)[0]
            if column == "auc":
                ax.fill_between(rows["start"], rows["auc_low"], rows["auc_high"], alpha=0.15,
                                color=drawn.get_color())
            if column == "default_rate":
                ax.vlines(rows["start"], rows["dr_low"], rows["dr_high"], alpha=0.5,
                          color=drawn.get_color())
                ax.plot(rows["start"], rows["mean_pd"], "x", color=drawn.get_color())
        if line is not None:
            ax.axhline(line, color="grey", linestyle="--", label=label)
        if column == "psi":
            for value, style in ((watch, "--"), (alarm, "-")):
                ax.axhline(value, color="grey", linestyle=style)
        if len(later):
            ax.axvline(later.min(), color="black", lw=0.8, linestyle=":")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8)
    return figure


def monitoring_figure(batches: pd.DataFrame, rules: dict[str, Any]) -> Figure:
    """Four panels over the batches' start dates: score PSI and the largest feature CSI (watch
    and alarm drawn), approval rate and mean PD (development's and its alert limits drawn).
    A batch with a high-severity alert is drawn in red."""
    figure, axes = plt.subplots(2, 2, figsize=(9.6, 6.4), sharex=True, layout="constrained")
    figure.suptitle("Scored batches (application period)")
    alert = batches["status"] == "alert"
    approval = batches["approval_rate_development"].iloc[-1]
    mean_pd = batches["mean_pd_development"].iloc[-1]
    change, relative = (rules["approval_rate"]["max_change"],
                        rules["mean_pd"]["max_relative_change"])
    for ax, (title, column, lines) in zip(axes.flat, (
            ("score PSI", "score_psi", (rules["score_psi"]["watch"],
                                        rules["score_psi"]["alarm"])),
            ("largest feature CSI", "largest_csi", (rules["feature_csi"]["watch"],
                                                    rules["feature_csi"]["alarm"])),
            ("approval rate at the cut-off", "approval_rate",
             (approval - change, approval, approval + change)),
            ("mean PD", "mean_pd", (mean_pd * (1 - relative), mean_pd,
                                    mean_pd * (1 + relative)))), strict=True):
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.plot(batches["batch_start"], batches[column], "o-", ms=4, color="#1565c0")
        ax.plot(batches.loc[alert, "batch_start"], batches.loc[alert, column], "o", ms=7,
                color=STATUS_COLOURS["shift"], label="alert")
        for value, style in zip(lines, ("--", "-", "--") if len(lines) == 3 else ("--", "-"),
                                strict=True):
            if pd.notna(value):
                ax.axhline(value, color="grey", linestyle=style, lw=0.9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes[0, 0].legend(fontsize=8)
    return figure


def effects_figure(dependence: dict[str, Any], table: pd.DataFrame, columns: int = 3) -> Figure:
    """One panel per declared feature: its contribution against its value, coloured by status."""
    rows = -(-len(dependence) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(9.6, 2.6 * rows), squeeze=False,
                                layout="constrained")
    status = table.set_index("feature")
    for ax, (feature, points) in zip(axes.flat, dependence.items(), strict=False):
        ax.scatter(points["value"], points["contribution"], s=6,
                   color=EFFECT_COLOURS.get(status.loc[feature, "status"], "grey"))
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_title(f"{feature[:40]}\nexpected {status.loc[feature, 'expected']}, "
                     f"rho {status.loc[feature, 'rho']:+.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(dependence):]:
        ax.set_visible(False)
    figure.supylabel("contribution to the log-odds of default", fontsize=8)
    return figure


def cost_figure(curve: dict[str, Any], scenarios: pd.DataFrame) -> Figure:
    figure, ax = _axes("Expected cost per applicant by cut-off, out-of-fold PDs", "PD cut-off",
                       "expected cost per applicant")
    ax.plot(curve["cutoff"], curve["expected_cost"], color="black", label="model's costs")
    for row, style in zip(scenarios.itertuples(), ("-", "--", ":", "-."), strict=False):
        ax.axvline(row.cutoff, linestyle=style, color="tab:blue",
                   label=f"cut-off {row.cutoff:.3f}: {row.scenario}")
    ax.set_xlim(0, 1)
    ax.legend()
    return figure


def reasons_figure(reasons: pd.DataFrame, top: int = 15) -> Figure:
    shown = reasons.head(top).iloc[::-1]
    figure, ax = _axes("", "share of declined test applicants", "",
                       size=(6.4, 0.3 * len(shown) + 1.4))
    figure.suptitle("Principal reason of each declined test applicant")  # over long labels
    ax.barh(shown["principal_reason"] + ": " + shown["statement"].str.slice(0, 48),
            shown["share_of_declined"])
    return figure


def render(title: str, summary: pd.DataFrame, sections: list[dict[str, Any]],
           alarm: str | None = None) -> str:
    """The HTML page: title, summary table, contents, then each section's text, tables, charts.

    Args:
        summary: ``item``/``value`` rows; an item ``verdict`` is also shown as a banner.
        alarm: a sentence the reader must not miss (the registry gate's), shown in red.
        sections: ``{"id", "title", "text", "blocks"}``, where each block is a table
            (DataFrame or ``Table``), ``Items``, a ``Link`` or a figure (SVG markup).
    """
    verdict = summary.set_index("item")["value"].get("verdict")
    banner = (f"<p class='verdict' style='background:{VERDICT_COLOURS.get(verdict, '#555')}'>"
              f"Verdict: {html.escape(verdict)}</p>" if verdict else "")
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", banner,
             f"<p class='alarm'>{html.escape(alarm)}</p>" if alarm else "",
             table_html(summary),
             "<nav><h2>Contents</h2><ol>",
             *[f"<li><a href='#{s['id']}'>{html.escape(s['title'])}</a></li>" for s in sections],
             "</ol></nav>"]
    for section in sections:
        parts.append(f"<section id='{section['id']}'><h2>{html.escape(section['title'])}</h2>"
                     f"<p class='note'>{html.escape(section['text'])}</p>")
        parts += [block_html(block) for block in section["blocks"]]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
