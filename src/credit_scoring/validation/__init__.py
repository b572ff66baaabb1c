"""What a validator reads: statistics, stability and the report.

``statistics`` (DeLong, KS, Jeffreys, Hosmer-Lemeshow, gains), ``stability`` (PSI and
CSI against the baselines a model stores), ``vintages`` (those statistics per vintage, in
time and out of time) and ``report`` (the HTML page: computing lives in the others,
presenting here). May import ``models`` and ``data``.
"""

from credit_scoring import public_face

_HOMES = {
    "auc_confidence": "statistics",
    "auc_difference": "statistics",
    "band_monotonicity": "statistics",
    "baseline": "stability",
    "feature_baselines": "stability",
    "gains_table": "statistics",
    "hosmer_lemeshow": "statistics",
    "jeffreys": "statistics",
    "ks_confidence": "statistics",
    "pd_groups": "statistics",
    "psi": "stability",
    "psi_from_baseline": "stability",
    "render": "report",
    "stability_report": "stability",
    "stability_status": "stability",
    "traffic_light": "statistics",
}
__all__ = [
    "auc_confidence",
    "auc_difference",
    "band_monotonicity",
    "baseline",
    "feature_baselines",
    "gains_table",
    "hosmer_lemeshow",
    "jeffreys",
    "ks_confidence",
    "pd_groups",
    "psi",
    "psi_from_baseline",
    "render",
    "stability_report",
    "stability_status",
    "traffic_light",
]
__getattr__, __dir__ = public_face(__name__, _HOMES)
