"""The narrator of ``matchsim demo``: prints each step of the pipeline as it happens
(rich panels and lines), and the closing table of what each scheme protects."""

from __future__ import annotations

from typing import Any

from rich.panel import Panel
from rich.table import Table

from matchsim.cli._output import out_console


class Narrator:
    """Prints each step of the pipeline as it happens, pausing between acts if asked."""

    def __init__(self, pause: bool) -> None:
        self.pause = pause
        self.console = out_console

    def wait(self) -> None:
        if self.pause:
            self.console.input("[dim]press Enter to continue[/dim] ")

    def say(self, title: str, body: str) -> None:
        self.console.print(Panel(body, title=title, title_align="left", border_style="cyan"))

    def __call__(self, step: str, payload: dict[str, Any]) -> None:
        handler = getattr(self, "on_" + step.replace(" ", "_"), None)
        if handler is not None:
            handler(payload)

    def on_population(self, payload: dict[str, Any]) -> None:
        counts = payload["manifest"]["counts"]
        self.say(
            "2. The customer list",
            f"The insurer's CRM holds {counts['customers']:,} customers; "
            f"{counts['customers_on_platform']:,} of them have an account on a platform of "
            f"{counts['platform_users']:,} users. Phones are typed the Dutch way "
            "(06-12345678, +31 (0)6 ...), e-mails in any case.",
        )
        self.wait()

    def on_hash(self, payload: dict[str, Any]) -> None:
        spec = payload["scheme"]
        summary = payload["summary"]
        phone = summary.get("fields", {}).get("phone", {})
        self.console.print(
            f"\n[bold]{spec.title}[/bold]: the insurer normalises and hashes its list "
            f"({phone.get('written', 0):,} phone numbers hashed) and uploads it."
        )

    def on_join(self, payload: dict[str, Any]) -> None:
        report = payload["report"]
        per_key = report.get("per_key") or {}
        keys = [k for k, v in per_key.items() if v.get("users_matched")]
        self.console.print(
            f"  The platform hashes its own users the same way and joins: "
            f"[bold]{100 * report['match_rate']:.1f} %[/bold] of the list matched, "
            f"{report['matched_users']:,} users now known to be customers of a health insurer"
            + (f" (matched on {', '.join(keys)})." if keys else ".")
        )
        if keys == ["madid"]:
            self.console.print(
                "  Only the mobile advertising ids matched: Meta takes them in clear, unhashed."
            )

    def on_attack_start(self, payload: dict[str, Any]) -> None:
        if payload["attack"].kind == "reidentify":
            return
        self.console.print(
            "  An outsider who holds only the upload enumerates every Dutch mobile number "
            "(+316 ..., 6 x 10^7 of them) and hashes each one the same way:"
        )

    def on_attack(self, payload: dict[str, Any]) -> None:
        r = payload["result"]
        if r.get("kind") == "reidentify":
            if r.get("feasible"):
                self.console.print(
                    f"  Names, birth dates and postcodes reversed the same way name "
                    f"[bold]{100 * r['share']:.1f} %[/bold] of the list in a municipal register, "
                    f"{r['reidentified_without_email_or_phone']:,} of them without their "
                    "e-mail or phone."
                )
            return
        if not r.get("feasible"):
            self.console.print(f"  [green]nothing to enumerate[/green]: {r.get('reason')}")
            return
        colour = "red" if r["share"] > 0.5 else "green"
        self.console.print(
            f"  [{colour}]{r['recovered']:,} hashed phone numbers recovered "
            f"({100 * r['share']:.1f} % of those uploaded)[/{colour}] in {r['seconds']:.1f} s, "
            f"{r['hashes_per_second'] / 1e6:,.1f} M hashes/s on this machine."
            + (" The rest are landlines, outside the mobile range." if r["share"] > 0.5 else "")
        )

    def on_scheme(self, payload: dict[str, Any]) -> None:
        self.wait()


def closing_table(results: dict[str, Any]) -> Table:
    table = Table(title="What each scheme protects", show_lines=True)
    for column in (
        "scheme",
        "platform matches",
        "outsider reverses phones",
        "what the platform learns",
    ):
        table.add_column(column)
    for s in results["schemes"]:
        share = s.get("phone_share")
        table.add_row(
            s["label"],
            f"{100 * s['join']['match_rate']:.1f} %",
            "—" if share is None else f"{100 * share:.1f} %",
            s["learns"],
        )
    return table
