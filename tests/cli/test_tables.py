"""Tables on stdout: whole values on a narrow terminal, plain columns when piped."""

from __future__ import annotations

import io
import re

from rich.console import Console

from tuning.cli.tables import print_table

PARAMS = "n_blocks=1, filters_1=34, convs_per_block=2, kernel_size=3, learning_rate=0.0029, lr_schedule=cosine"
ROWS = [["12", "pruned after epoch 0.25", "0.8566", PARAMS], ["0", "complete", "0.9323", PARAMS]]
HEADINGS = ["trial", "state", "val acc", "params"]


def test_on_an_80_column_terminal_no_value_is_cut_the_parameters_fold() -> None:
    out = io.StringIO()
    print_table(Console(file=out, width=80, force_terminal=True, color_system=None), HEADINGS, ROWS)
    lines = out.getvalue().splitlines()
    assert max(map(len, lines)) <= 80
    assert "…" not in out.getvalue()
    assert "pruned after epoch 0.25" in out.getvalue()
    cells = [re.split(r"\s*│\s*", line)[-2] for line in lines if line.startswith("│")]
    assert "".join(cells).replace(" ", "") == (PARAMS * 2).replace(" ", "")  # every character, in order


def test_piped_output_is_one_line_per_row() -> None:
    out = io.StringIO()
    print_table(Console(file=out, width=80), HEADINGS, ROWS)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[1] == f"12     pruned after epoch 0.25  0.8566   {PARAMS}"
