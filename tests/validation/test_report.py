"""The report's table cells: numbers to the digits asked, a missing value of any dtype empty."""

import pandas as pd

from credit_scoring.validation.report import table_html


def test_a_missing_value_is_an_empty_cell_whatever_its_dtype():
    table = pd.DataFrame({"model": ["champion", "champion - challenger"],
                          "complexity": pd.array([3, None], dtype="Int64"),
                          "auc": [0.79712, float("nan")]})
    page = table_html(table)
    assert "<NA>" not in page and "nan" not in page
    assert "<td>3</td>" in page and "<td>0.7971</td>" in page
    assert page.count("<td></td>") == 2
