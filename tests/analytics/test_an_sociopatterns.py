"""The README's reference values, recomputed from the real CC0 files (never hard-coded results)."""

from pathlib import Path

import pytest

from pipeline.analytics.sociopatterns import import_sociopatterns, read_metadata, read_tij
from pipeline.analytics.summary import summarize_mixing
from pipeline.errors import ConfigError
from pipeline.store import EventStore

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sociopatterns"
needs_data = pytest.mark.skipif(
    not (DATA / "tij_InVS15.dat").exists(), reason=f"SocioPatterns data not found at {DATA.resolve()}"
)


@needs_data
@pytest.mark.parametrize(
    ("tij", "meta", "r_w", "within", "r_u", "contacts"),
    [
        ("tij_InVS.dat", "metadata_InVS13.txt", 0.756, 0.820, 0.517, 9827),
        ("tij_InVS15.dat", "metadata_InVS15.txt", 0.722, 0.763, 0.324, 78249),
    ],
)
def test_reference_values(
    tmp_path: Path, tij: str, meta: str, r_w: float, within: float, r_u: float, contacts: int
) -> None:
    store = tmp_path / "s.db"
    assert import_sociopatterns(DATA / tij, DATA / meta, store)[0] == contacts
    with EventStore(store, readonly=True) as s:
        m = summarize_mixing(s.contacts(), s.people())
    assert round(m.r_weighted, 3) == r_w
    assert round(m.within_weighted, 3) == within
    assert round(m.r_unweighted, 3) == r_u
    assert m.contacts == contacts


def test_reads_crlf_and_lf(tmp_path: Path) -> None:
    (tmp_path / "t.dat").write_bytes(b"20 1 2\r\n40 2 3\r\n")
    (tmp_path / "m.txt").write_bytes(b"1\tA\n2\tA\n3\tB\n")
    t, pairs = read_tij(tmp_path / "t.dat")
    assert t.tolist() == [20, 40] and pairs == [("1", "2"), ("2", "3")]
    assert read_metadata(tmp_path / "m.txt") == {"1": "A", "2": "A", "3": "B"}


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.dat").write_text("20 1 2\nxx 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"t\.dat.*2"):
        read_tij(tmp_path / "t.dat")
