"""Exact invoice arithmetic with ``Decimal`` (MISSION V3).

Rounding rule (documented in docs/modules/invoices.md):

1. Each line's net amount is ``quantity x unit price x (1 - discount / 100)``, computed
   exactly and then rounded **half-up** to the currency's minor unit (2 decimals for EUR,
   0 for JPY, 3 for KWD…).
2. Each tax of a line is computed on that rounded net amount and rounded half-up to the minor
   unit, line by line. A **compound** tax applies on the net amount *plus* the (rounded)
   taxes listed before it on the same line; a simple tax applies on the net amount only.
3. The invoice's subtotal is the sum of the lines' net amounts, its tax total the sum of the
   lines' tax amounts, and its total their sum: sums of rounded amounts, so the printed
   lines always add up to the printed totals.

Rounding per line (rather than per tax rate over the whole invoice) is what the line-by-line
invoice of the seeds shows; it can differ from a per-rate computation by a cent per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

HUNDRED = Decimal(100)


def minor_unit(currency: str) -> Decimal:
    """The currency's smallest unit as a quantum: ``Decimal("0.01")`` for EUR (CLDR data)."""
    return Decimal(1).scaleb(-get_currency_precision(currency.upper()))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TaxSpec:
    name: str
    rate: Decimal
    compound: bool = False


@dataclass(frozen=True)
class LineSpec:
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    taxes: Sequence[TaxSpec] = ()


@dataclass
class LineResult:
    net: Decimal
    taxes: list[Decimal]

    @property
    def tax(self) -> Decimal:
        return sum(self.taxes, Decimal(0))


@dataclass
class Totals:
    lines: list[LineResult] = field(default_factory=list)
    subtotal: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)


def line_amounts(line: LineSpec, currency: str) -> LineResult:
    """Net amount and each tax of one line, rounded as the module docstring says."""
    gross = line.quantity * line.unit_price * (1 - line.discount / HUNDRED)
    net = round_money(gross, currency)
    taxes: list[Decimal] = []
    for tax in line.taxes:
        base = net + sum(taxes, Decimal(0)) if tax.compound else net
        taxes.append(round_money(base * tax.rate / HUNDRED, currency))
    return LineResult(net=net, taxes=taxes)


def compute(lines: Sequence[LineSpec], currency: str) -> Totals:
    """Totals of an invoice: sums of the rounded line amounts."""
    result = Totals(lines=[line_amounts(line, currency) for line in lines])
    zero = round_money(Decimal(0), currency)
    result.subtotal = sum((r.net for r in result.lines), zero)
    result.tax_total = sum((r.tax for r in result.lines), zero)
    result.total = result.subtotal + result.tax_total
    return result
