"""``oncosecours sortie ...``: the crisis exit (re-entry into Chimio, billing, reconciliation,
archive, closing). The ribbon group « Sortie de crise » calls the same services."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import actor, add_common, emit, open_store


def _period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="date_from", metavar="AAAA-MM-JJ",
                        help="du (défaut : premier jour de la crise)")  # fmt: skip
    parser.add_argument("--to", dest="date_to", metavar="AAAA-MM-JJ",
                        help="au, inclus (défaut : dernier jour enregistré)")  # fmt: skip


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sortie", help="sortie de crise : reprise Chimio, facturation, rapprochement, archive"
    )
    sub = parser.add_subparsers(dest="sortie_command", metavar="ACTION")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])

    reentry = sub.add_parser("reentry", help="reprise dans Chimio : exports et pointage")
    rsub = reentry.add_subparsers(dest="reentry_command", metavar="ACTION")
    reentry.set_defaults(handler=lambda _args: (reentry.print_help(), 2)[1])
    export = rsub.add_parser("export", help="CSV de reprise et dossier Word par patient")
    add_common(export, user=False)
    _period(export)
    export.add_argument("--out", metavar="DOSSIER", required=True, help="dossier de sortie")
    export.add_argument("--no-docx", action="store_true", help="CSV seulement")
    export.add_argument("--pdf", action="store_true", help="dossiers aussi en PDF (LibreOffice)")
    export.set_defaults(handler=_reentry_export)
    listing = rsub.add_parser("list", help="liste de reprise : éléments pointés et restants")
    add_common(listing, user=False)
    _period(listing)
    listing.set_defaults(handler=_reentry_list)
    tick = rsub.add_parser("tick", help="pointer des éléments comme ressaisis dans Chimio")
    add_common(tick)
    tick.add_argument("--item", metavar="ÉLÉMENT", action="append", default=[],
                      help="patient:N, inclusion:N ou cure:N (répétable)")  # fmt: skip
    tick.add_argument("--patient", metavar="IPP", help="tous les éléments restants du patient")
    tick.add_argument("--comment", metavar="TEXTE", help="commentaire (facultatif)")
    tick.set_defaults(handler=_reentry_tick)

    billing = sub.add_parser("billing", help="facturation des médicaments de la liste en sus")
    add_common(billing)
    _period(billing)
    billing.add_argument("--out", metavar="DOSSIER", required=True, help="dossier de sortie")
    billing.add_argument("--again", action="store_true",
                         help="refacturer aussi les préparations déjà exportées")  # fmt: skip
    billing.set_defaults(handler=_billing)

    rec = sub.add_parser("reconcile", help="rapprochement : les ruptures du circuit")
    add_common(rec, user=False)
    _period(rec)
    rec.set_defaults(handler=_reconcile)
    justify = sub.add_parser("justify", help="justifier une rupture du rapprochement")
    add_common(justify)
    justify.add_argument("--break", dest="rupture", metavar="RÈGLE:CLÉ", required=True,
                         help="la rupture, comme l'écrit le rapprochement")  # fmt: skip
    justify.add_argument("--text", metavar="TEXTE", required=True, help="justification")
    justify.set_defaults(handler=_justify)

    archive = sub.add_parser("archive", help="archive décennale (PDF/A, CSV, journal, base)")
    add_common(archive, user=False)
    archive.add_argument("--out", metavar="DOSSIER", required=True, help="où créer l'archive")
    archive.add_argument("--no-pdf", action="store_true", help="sans l'ordonnancier PDF/A")
    archive.set_defaults(handler=_archive)
    verify = sub.add_parser("verify", help="vérifier une archive")
    verify.add_argument("dossier", metavar="DOSSIER", help="dossier de l'archive")
    verify.add_argument("--json", action="store_true", help="sortie JSON (pour les scripts)")
    verify.set_defaults(handler=_verify)

    close = sub.add_parser("close", help="clore la crise : le registre passe en lecture seule")
    add_common(close, user=False)
    close.add_argument("--user", metavar="INITIALES", help="pharmacien qui clôt la crise")
    close.add_argument("--check", action="store_true", help="afficher la liste sans clore")
    close.set_defaults(handler=_close)


def register_bench(sub) -> None:
    from oncosecours.commands.bench import add_bench_options

    parser = sub.add_parser(
        "sortie", help="exports de sortie de crise d'une longue crise (générateur synthétique)"
    )
    add_bench_options(parser)
    parser.add_argument("--weeks", metavar="SEMAINES", type=int, default=6,
                        help="semaines de crise (défaut : 6)")  # fmt: skip
    parser.add_argument("--per-day", metavar="NOMBRE", type=int, default=60,
                        help="préparations par jour (défaut : 60)")  # fmt: skip
    parser.add_argument("--keep", metavar="DOSSIER", help="garder la base et les exports ici")
    parser.set_defaults(handler=_bench)


# --- handlers -------------------------------------------------------------------------------------


def _reentry_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from oncosecours.services.sortie.records import gather
    from oncosecours.services.sortie.reentry import export_csv

    conn = open_store(args)
    records = gather(conn, args.date_from, args.date_to)
    out = Path(args.out)
    written = export_csv(records, out)
    dossiers: list[str] = []
    if not args.no_docx and records.patients:
        from oncosecours.documents.dossier import render_dossiers

        result = render_dossiers(records, out / "dossiers", pdf=args.pdf)
        dossiers = [str(p) for p in result.files]
    lines = [
        f"Reprise Chimio du {records.date_from} au {records.date_to} : "
        f"{len(records.patients)} patient(s), dans {out}"
    ]
    lines += [f"  {w['fichier']} : {w['lignes']} ligne(s)" for w in written]
    if dossiers:
        lines.append(f"  {len(dossiers)} dossier(s) patient dans {out / 'dossiers'}")
    emit(args, {"csv": written, "dossiers": dossiers}, "\n".join(lines))
    return 0


def reentry_text(state: dict) -> str:
    lines = [
        f"Liste de reprise du {state['du']} au {state['au']} : {state['pointes']} pointé(s), "
        f"{state['restants']} à pointer."
    ]
    for item in state["items"]:
        mark = f"[x] {item['ticked_by']} {item['ticked_at'][:16]}" if item["ticked"] else "[ ]"
        lines.append(f"  {mark:<26} {item['key']:<14} {item['patient']} — {item['label']}")
    return "\n".join(lines)


def _reentry_list(args: argparse.Namespace) -> int:
    from oncosecours.services.sortie.reentry import checklist

    state = checklist(open_store(args), args.date_from, args.date_to)
    emit(args, state, reentry_text(state))
    return 0


def _reentry_tick(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.sortie.reentry import checklist, tick

    conn = open_store(args)
    user = actor(args, conn)
    keys = list(args.item)
    if args.patient:
        wanted = args.patient.strip().upper()
        found = [i for i in checklist(conn)["items"] if i["ipp"].upper() == wanted]
        if not found:
            raise OncoError(f"Aucun élément de reprise pour le patient « {args.patient} »",
                            field="patient")  # fmt: skip
        keys += [i["key"] for i in found if not i["ticked"]]
    done = tick(conn, user, keys, args.comment)
    emit(args, done, f"{len(done)} élément(s) pointé(s) : " + ", ".join(d["key"] for d in done))
    return 0


def _billing(args: argparse.Namespace) -> int:
    from oncosecours.services.sortie.billing import export_billing

    conn = open_store(args)
    result = export_billing(conn, actor(args, conn), args.out, args.date_from, args.date_to,
                            again=args.again)  # fmt: skip
    lines = [
        f"Facturation liste en sus du {result['du']} au {result['au']} (export n° "
        f"{result['export']}) : {result['lignes']} ligne(s) pour {result['préparations']} "
        f"préparation(s) dans {result['path']}"
    ]
    if result["refused"]:
        lines.append(f"REFUSÉES ({len(result['refused'])}), non exportées, voir "
                     f"{result['refused_path']} :")  # fmt: skip
        lines += [f"  {r['numero_ordonnancier']} {r['patient']} : {r['raison']}"
                  for r in result["refused"]]  # fmt: skip
    if result["already"]:
        lines.append("Déjà facturées (non reprises ; --again pour les refacturer) : "
                     + ", ".join(r["numero_ordonnancier"] for r in result["already"]))  # fmt: skip
    emit(args, {k: v for k, v in result.items() if k != "lines_detail"}, "\n".join(lines))
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from oncosecours.services.sortie.reconcile import breaks, report_text

    report = breaks(open_store(args), args.date_from, args.date_to)
    emit(args, report, report_text(report))
    return 0 if report["ouvertes"] == 0 else 1


def _justify(args: argparse.Namespace) -> int:
    from oncosecours.services.sortie.reconcile import justify

    conn = open_store(args)
    done = justify(conn, actor(args, conn), args.rupture, args.text)
    emit(args, done, f"Rupture {done['regle']}:{done['cle']} justifiée.")
    return 0


def _archive(args: argparse.Namespace) -> int:
    from oncosecours.services.sortie.archive import write_archive

    conn = open_store(args)
    documents = None
    if not args.no_pdf:
        from oncosecours.documents.dossier import archive_ordonnancier

        documents = archive_ordonnancier(conn)
    result = write_archive(conn, args.out, documents=documents)
    text = (
        f"Archive écrite : {result['dossier']} ({result['fichiers']} fichiers, "
        f"{result['ordonnancier_entrees']} entrée(s) d'ordonnancier, "
        f"{result['journal_evenements']} événement(s) du journal"
        + (", PDF/A" if result["pdf"] else ", sans PDF")
        + ("" if result["registre_clos"] else " ; ATTENTION : registre non clos")
        + ")."
    )
    emit(args, result, text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from oncosecours.services.sortie.archive import verify

    report = verify(args.dossier)
    if report["ok"]:
        text = (f"Archive intègre : {report['fichiers']} fichier(s) conformes au manifeste, "
                f"journal de {report['evenements']} événement(s) chaîné.")  # fmt: skip
    else:
        text = "ARCHIVE ALTÉRÉE :\n" + "\n".join(f"  {p}" for p in report["problemes"])
    emit(args, report, text)
    return 0 if report["ok"] else 1


def _close(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.sortie.closing import checklist, close_crisis

    conn = open_store(args)
    if args.check or not args.user:
        if not args.check:
            raise OncoError("Clore la crise demande --user (pharmacien) ; --check pour voir "
                            "la liste sans clore", field="--user")  # fmt: skip
        state = checklist(conn)
        lines = [("Registre CLOS" if state["closed"] else "Avant de clore la crise :")]
        lines += [f"  [{'x' if c['ok'] else ' '}] {c['controle']} : {c['detail']}"
                  for c in state["checks"]]  # fmt: skip
        emit(args, state, "\n".join(lines))
        return 0 if state["ready"] else 1
    done = close_crisis(conn, actor(args, conn))
    emit(args, done, f"Crise close le {done['closed_at'][:16].replace('T', ' ')} par "
                     f"{done['by']} : le registre est en lecture seule.")  # fmt: skip
    return 0


def _bench(args: argparse.Namespace) -> int:
    from oncosecours.ops.bench_sortie import run

    result = run(args.weeks, args.per_day, keep=args.keep)
    emit(args, result, result["texte"])
    return 0
