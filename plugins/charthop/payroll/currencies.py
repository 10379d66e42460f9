"""ISO 4217 alphabetic currency codes that a salary can be paid in."""

from __future__ import annotations

# Current codes of ISO 4217 list one, as of mid-2025. Fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI,
# UYW) and the X codes for precious metals, bond units, SDR and testing are left out, because no one is
# paid in them. The supranational currencies XAF, XCD, XCG, XOF and XPF are in.
# NOTE: ANG, CUC, SLL and ZWL are in transition to XCG, CUP, SLE and ZWG. They stay accepted until
# payroll systems stop exporting them, and a later ISO amendment may need an update here.
ISO_4217_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD
    KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK
    NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST
    XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()
)


def is_currency_code(code: str) -> bool:
    """Return whether ``code``, already upper-cased, is in ``ISO_4217_CODES``."""
    return code in ISO_4217_CODES
