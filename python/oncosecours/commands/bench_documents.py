"""``oncosecours bench-documents``: naive docxtpl loop vs compiled templates, same run."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench-documents",
        help="mesurer la production des fiches de fabrication (boucle naïve contre compilée)",
    )
    parser.add_argument(
        "--count", type=int, default=350, help="nombre de fiches (défaut : 350, une grande unité)"
    )
    parser.add_argument("--out", metavar="DOSSIER", help="garder les fichiers produits ici")
    parser.add_argument(
        "--pdf", action="store_true", help="mesurer aussi la conversion PDF (LibreOffice)"
    )
    add_json(parser)
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from oncosecours.documents import bench
    from oncosecours.domain.errors import OncoError

    if args.count < 1:
        raise OncoError(f"Nombre de fiches impossible : {args.count}", field="count")
    result = bench.run(args.count, out_dir=args.out, pdf=args.pdf)
    emit(args, result, bench.text(result))
    return 0
