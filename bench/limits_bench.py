"""What a hostile form costs the reader: time and peak memory of parse_bytes.

    python bench/limits_bench.py

Writes two files of the issue-8 kind into a temporary folder and reads each
in a fresh interpreter (so that its peak RSS, from resource.getrusage, is
that file's alone):

  (a) a form with 50,000 rows (~0.4 MB): refused by max_rows / max_xml_elements;
  (b) a ~2.7 MB .docx of 1.2 million tiny runs: refused by max_xml_elements.

Prints the verdict, seconds and peak RSS of each, and the same with the
limits raised out of the way (max_xml_elements = 10**9, max_rows = 10**9),
which is what reading such a file whole costs.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.core.forms import BY_KIND  # noqa: E402

CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from pipeline.core.config import Config
from pipeline.read.parse import parse_bytes
cfg = Config(max_xml_elements={elements}, max_rows={rows})
data = Path({path!r}).read_bytes()
start = time.perf_counter()
r = parse_bytes(data, "x.docx", cfg=cfg, convert=False)
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps([[p.code for p in r.errors], took, peak]))
"""


def w_t(text: object) -> str:
    return f"<w:tc><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def package(body: str) -> bytes:
    import io
    import zipfile

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    doc = f'<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body>{body}<w:sectPr/></w:body></w:document>'
    ct = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


def many_rows(n: int = 50_000) -> bytes:
    spec = BY_KIND["personal_assessment"]
    head = "<w:tr>" + "".join(w_t(c.title) for c in spec.columns) + "</w:tr>"
    rows = "".join(
        "<w:tr>" + w_t("考试管理") + w_t(i) + w_t(f"风险{i}") + w_t(f"表现{i * 7919 % 100003}") + w_t("二级") + w_t("同意。") + "</w:tr>"
        for i in range(1, n + 1)
    )
    title = f"<w:p><w:r><w:t>{spec.title}</w:t></w:r></w:p><w:p><w:r><w:t>单位：教务处 姓名：王丽华 职务：科长</w:t></w:r></w:p>"
    return package(f"{title}<w:tbl>{head}{rows}</w:tbl>")


def tiny_elements(n: int = 1_200_000) -> bytes:
    rnd = random.Random(9)
    return package("<w:p>" + "".join(f"<w:r><w:t>{c}</w:t></w:r>" for c in rnd.choices(range(1000), k=n)) + "</w:p>")


def measure(path: Path, elements: int, rows: int) -> tuple[list[str], float, float]:
    code = CHILD.format(root=str(ROOT), path=str(path), elements=elements, rows=rows)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    found, took, peak = json.loads(out)
    return found, took, peak


def main() -> None:
    if sys.argv[1:2] == ["--make"]:  # in a child: the parent stays small, and a child's ru_maxrss starts at its parent's size
        folder = Path(sys.argv[2])
        (folder / "rows.docx").write_bytes(many_rows())
        (folder / "tiny.docx").write_bytes(tiny_elements())
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, __file__, "--make", tmp], check=True)
        for label, name in (("50,000 rows", "rows.docx"), ("1.2 M tiny runs", "tiny.docx")):
            path = Path(tmp) / name
            size = path.stat().st_size / 1e6
            for how, elements, rows in (("limits on ", 200_000, 500), ("limits off", 10**9, 10**9)):
                found, took, peak = measure(path, elements, rows)
                print(f"{label:>16} ({size:.1f} MB), {how}: {','.join(found) or 'ok':<14} {took:6.2f} s  peak RSS {peak:5.0f} MB")


if __name__ == "__main__":
    main()
