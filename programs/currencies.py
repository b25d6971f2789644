"""ISO 4217: the currency codes an organization may keep its money in.

The codes in circulation (national and regional currencies), without the fund, metal,
testing and "no currency" codes (XAU, XTS, XXX...), which a program's budget is never
stated in. Withdrawn codes (HRK, CUC, SLL, ZWL...) are refused: nobody budgets in them now.
"""

from django.core.exceptions import ValidationError

DEFAULT_CURRENCY = "EUR"

_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENCY_CODES = frozenset(_CODES.split())


def validate_currency(value: str) -> None:
    """An ISO 4217 code in circulation, three capital letters (EUR, USD, GBP...)."""
    if value not in CURRENCY_CODES:
        raise ValidationError(
            f"'{value}' is not an ISO 4217 currency code in circulation: use three capital letters, such as EUR, "
            "USD or GBP.",
            code="invalid_currency",
        )
