"""Salary rules against real salary strings and structured fields.

Every salary in the shipped fixtures must appear in the tables below, so a new recorded
response forces someone to decide what it should parse to.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jobs_assets
from jobs_assets.lib.money.salary import (
    PERIOD_FACTORS,
    Salary,
    is_plausible,
    normalise_period,
    parse_salary_text,
    render_salary,
    structured_salary,
)

FIXTURES = Path(jobs_assets.__file__).parent / "replay_fixtures"

H, D, W, M = 2080, 260, 52, 12  # annualising factors, to keep the table readable

# text -> (min, max, currency, period); amounts are ANNUAL.
SALARY_TEXT_CASES: dict[str, tuple[float | None, float | None, str | None, str | None]] = {
    # --- Remotive fixture (remotive.json) ---
    "up to $19/hour": (None, 19 * H, "USD", "hour"),
    "€80k-€110k": (80_000, 110_000, "EUR", "year"),
    "$31,2k- $52k": (31_200, 52_000, "USD", "year"),
    "$60k-$130k (depending on experience)": (60_000, 130_000, "USD", "year"),
    "OTE $25k - $35k": (25_000, 35_000, "USD", "year"),
    "$50-$75 /hour": (50 * H, 75 * H, "USD", "hour"),
    "$20k -$35k": (20_000, 35_000, "USD", "year"),
    "$10k": (10_000 * M, 10_000 * M, "USD", "month"),  # 1000-19999 without marker: month
    "$50k-$80k": (50_000, 80_000, "USD", "year"),
    "": (None, None, None, None),
    # --- examples the rules were written from ---
    "$150-190k": (150_000, 190_000, "USD", "year"),
    "45,000": (45_000, 45_000, None, "year"),
    "31,2k": (31_200, 31_200, None, "year"),
    "$100k to $130k": (100_000, 130_000, "USD", "year"),
    "from $90k": (90_000, None, "USD", "year"),
    "$120k+": (120_000, None, "USD", "year"),
    "USD 200": (200 * H, 200 * H, "USD", "hour"),  # < 300: hour
    "€500": (500 * D, 500 * D, "EUR", "day"),  # 300-999: day
    "£5,000": (5_000 * M, 5_000 * M, "GBP", "month"),  # 1000-19999: month
    "20000": (20_000, 20_000, None, "year"),  # >= 20000: year
    "C$100k": (100_000, 100_000, "CAD", "year"),
    "CA$90,000 - CA$110,000": (90_000, 110_000, "CAD", "year"),
    "A$120k - A$140k": (120_000, 140_000, "AUD", "year"),
    "AU$ 95k": (95_000, 95_000, "AUD", "year"),
    "R$ 8.000 - R$ 12.000": (8_000 * M, 12_000 * M, "BRL", "month"),
    "₹12,00,000 - ₹18,00,000": (1_200_000, 1_800_000, "INR", "year"),
    "USD $80k - $100k": (80_000, 100_000, "USD", "year"),
    "CAD $80k - $100k": (80_000, 100_000, "CAD", "year"),  # the ISO code wins
    # --- realistic Remotive / Jobicy variants ---
    "$100,000 - $120,000": (100_000, 120_000, "USD", "year"),
    "$100,000-$120,000 USD": (100_000, 120_000, "USD", "year"),
    "USD 80,000 - 100,000": (80_000, 100_000, "USD", "year"),
    "80k - 100k USD": (80_000, 100_000, "USD", "year"),
    "€45.000 - €55.000": (45_000, 55_000, "EUR", "year"),
    "45 000 - 55 000 EUR": (45_000, 55_000, "EUR", "year"),
    "£40k-£50k": (40_000, 50_000, "GBP", "year"),
    "£350 - £450 per day": (350 * D, 450 * D, "GBP", "day"),
    "$25/hr": (25 * H, 25 * H, "USD", "hour"),
    "$25 - $35 per hour": (25 * H, 35 * H, "USD", "hour"),
    "$15 - $20 an hour": (15 * H, 20 * H, "USD", "hour"),
    "$18-$22/h": (18 * H, 22 * H, "USD", "hour"),
    "$55.50/hr": (55.5 * H, 55.5 * H, "USD", "hour"),
    "$7/hour - $9/hour": (7 * H, 9 * H, "USD", "hour"),
    "10-15 USD/hour": (10 * H, 15 * H, "USD", "hour"),
    "£30 - £40 p/h": (30 * H, 40 * H, "GBP", "hour"),
    "$4,000 - $6,000/month": (48_000, 72_000, "USD", "month"),
    "$4000/mo": (48_000, 48_000, "USD", "month"),
    "3000 USD per month": (36_000, 36_000, "USD", "month"),
    "$3500 - $4500 monthly": (42_000, 54_000, "USD", "month"),
    "$5k-$7k/mo": (60_000, 84_000, "USD", "month"),
    "PHP 50,000/month": (600_000, 600_000, "PHP", "month"),
    "₱40,000 - ₱60,000 monthly": (480_000, 720_000, "PHP", "month"),
    "Up to $1,000 per month": (None, 12_000, "USD", "month"),
    "From €3,000/month gross": (36_000, None, "EUR", "month"),
    "$650/day": (650 * D, 650 * D, "USD", "day"),
    "€500 - €600 daily": (500 * D, 600 * D, "EUR", "day"),
    "$2,500 weekly": (2_500 * W, 2_500 * W, "USD", "week"),
    "$1.5k - $2k/week": (1_500 * W, 2_000 * W, "USD", "week"),
    "$3k fortnightly": (78_000, 78_000, "USD", "fortnight"),
    "$60k - $80k per year": (60_000, 80_000, "USD", "year"),
    "$60,000 - $80,000 annually": (60_000, 80_000, "USD", "year"),
    "$95k-$125k p.a.": (95_000, 125_000, "USD", "year"),
    "$80k-$100k/yr": (80_000, 100_000, "USD", "year"),
    "Salary: $85,000 - $95,000/year": (85_000, 95_000, "USD", "year"),
    "$72k - $84k annually (DOE)": (72_000, 84_000, "USD", "year"),
    "€60k/a": (60_000, 60_000, "EUR", "year"),
    "Starting at $70,000": (70_000, None, "USD", "year"),
    "up to €60k": (None, 60_000, "EUR", "year"),
    "Up to 120k EUR": (None, 120_000, "EUR", "year"),
    "$80K - $100K + equity": (80_000, 100_000, "USD", "year"),
    "$100k+ equity": (100_000, None, "USD", "year"),
    "$110,000 - $140,000 OTE": (110_000, 140_000, "USD", "year"),
    "$50K (OTE $100K)": (50_000, 50_000, "USD", "year"),
    "$90k base + $30k bonus": (90_000, 90_000, "USD", "year"),
    "$120k-$150k (plus 401k)": (120_000, 150_000, "USD", "year"),
    "$50/hr (W2)": (50 * H, 50 * H, "USD", "hour"),
    "$40 per hour (1099)": (40 * H, 40 * H, "USD", "hour"),
    "(USD 50k - 60k)": (50_000, 60_000, "USD", "year"),
    "60-80k": (60_000, 80_000, None, "year"),
    "40k": (40_000, 40_000, None, "year"),
    "65,000 - 75,000": (65_000, 75_000, None, "year"),
    "$65000-75000": (65_000, 75_000, "USD", "year"),
    "$70 000 - $90 000": (70_000, 90_000, "USD", "year"),
    "$70,000.00 - $90,000.00": (70_000, 90_000, "USD", "year"),
    "$ 90.000 - 110.000": (90_000, 110_000, "USD", "year"),
    "1.500,00 € / month": (18_000, 18_000, "EUR", "month"),
    "100k€": (100_000, 100_000, "EUR", "year"),
    "100 000 €": (100_000, 100_000, "EUR", "year"),
    "1200-1500 EUR": (14_400, 18_000, "EUR", "month"),
    "$200k - $150k": (150_000, 200_000, "USD", "year"),  # reversed: swapped
    "between $80k and $100k": (80_000, 100_000, "USD", "year"),
    "CAD 75k-95k": (75_000, 95_000, "CAD", "year"),
    "75k-95k CAD": (75_000, 95_000, "CAD", "year"),
    "50K-70K GBP": (50_000, 70_000, "GBP", "year"),
    "$100K–$130K": (100_000, 130_000, "USD", "year"),
    "US$90k - US$110k": (90_000, 110_000, "USD", "year"),
    "3+ years experience, $60k": (60_000, 60_000, "USD", "year"),
    "Level 3, $100k": (100_000, 100_000, "USD", "year"),
    "2 positions, $60k-$70k": (60_000, 70_000, "USD", "year"),
    "₹15 LPA": (1_500_000, 1_500_000, "INR", "year"),
    "INR 12 lakh - 18 lakh": (1_200_000, 1_800_000, "INR", "year"),
    "$1M": (1_000_000, 1_000_000, "USD", "year"),
    "usd 5000/month": (60_000, 60_000, "USD", "month"),
    "chf 120k": (120_000, 120_000, "CHF", "year"),
    "sek 50 000/month": (600_000, 600_000, "SEK", "month"),
    "TRY 50000": (50_000, 50_000, "TRY", "year"),
    "5000 try": (60_000, 60_000, None, "month"),  # a word-like code counts only in capitals
    "$80k-$100k (CAD)": (80_000, 100_000, "CAD", "year"),  # a bracketed bare code is the ISO code
    "€50k (approx. USD 55k)": (50_000, 50_000, "EUR", "year"),  # other notes are ignored
    "80,000 - 100,000 (USD)": (80_000, 100_000, "USD", "year"),
    # --- nothing to parse: nulls (the pipeline keeps salary_raw) ---
    "Competitive": (None, None, None, None),
    "DOE": (None, None, None, None),
    "$": (None, None, None, None),
    "0": (None, None, None, None),
    "$0 - $0": (None, None, None, None),
    "   ": (None, None, None, None),
}


# Issue 13: classes of misses from ~2,500 real listings, one rule each. Strings marked
# "seen" were found verbatim in public projects' saved job data; the rest are the issue's
# own examples and variants of each class.
WILD_CASES: dict[str, tuple[float | None, float | None, str | None, str | None]] = {
    # a currency marker after the range connector
    "US $160,000 to US $230,000": (160_000, 230_000, "USD", "year"),
    "US $60 - US $80 per hour": (60 * H, 80 * H, "USD", "hour"),
    "CA $90k to CA $110k": (90_000, 110_000, "CAD", "year"),
    "USD 80,000 to USD 100,000": (80_000, 100_000, "USD", "year"),
    "£31,516 to £38,364 a year per annum, pro rata": (31_516, 38_364, "GBP", "year"),  # seen
    # a period word that belongs to something else
    "£26,800 plus monthly bonus": (26_800, 26_800, "GBP", "year"),
    "$60,000 + quarterly bonus": (60_000, 60_000, "USD", "year"),
    "$55k base + monthly commission": (55_000, 55_000, "USD", "year"),
    "€48,000 (paid monthly)": (48_000, 48_000, "EUR", "year"),
    "$70k, plus $200 monthly allowance": (70_000, 70_000, "USD", "year"),
    "$85,000 and a stipend for monthly internet": (85_000, 85_000, "USD", "year"),
    "Annual bonus on top; $4,000/month": (48_000, 48_000, "USD", "month"),
    "$3,000/month + annual bonus": (36_000, 36_000, "USD", "month"),
    "£40,000 - £50,000 per annum,negotiable": (40_000, 50_000, "GBP", "year"),  # seen
    # letters glued to the amount, any case
    "R480k - R600k per annum": (480_000, 600_000, "ZAR", "year"),
    "r480k - r600k per annum": (480_000, 600_000, "ZAR", "year"),
    "R25,000 - R35,000": (25_000, 35_000, "ZAR", "year"),  # seen; the size rule
    "R 25 000 per month": (300_000, 300_000, "ZAR", "month"),
    "RM2,250 monthly": (27_000, 27_000, "MYR", "month"),
    "rm2,250 monthly": (27_000, 27_000, "MYR", "month"),
    "RM 8,000 - RM 10,000 per month": (96_000, 120_000, "MYR", "month"),
    "P50,000 - 70,000": (50_000, 70_000, "PHP", "year"),
    "p50,000 - 70,000": (50_000, 70_000, "PHP", "year"),
    "P40,000/month": (480_000, 480_000, "PHP", "month"),
    "Rs 12,000 per month": (144_000, 144_000, "INR", "month"),  # seen
    "Rs. 10,00,000": (1_000_000, 1_000_000, "INR", "year"),  # seen
    "Rs. 60000-220000 (E-3 to E-5 as per post)": (60_000, 220_000, "INR", "year"),  # seen
    "Rp10.000.000 per month": (120_000_000, 120_000_000, "IDR", "month"),
    "KSh 150,000 monthly": (1_800_000, 1_800_000, "KES", "month"),
    "USD75000": (75_000, 75_000, "USD", "year"),  # seen
    "Level P3, $100k": (100_000, 100_000, "USD", "year"),  # `P3` is a level, not pesos
    "Top 500 company, $90k": (90_000, 90_000, "USD", "year"),
    "£250 - £300 per day outside IR35": (250 * D, 300 * D, "GBP", "day"),
    # thousands on the upper figure only
    "$115-140,000.00/year": (115_000, 140_000, "USD", "year"),
    "$50-75,000": (50_000, 75_000, "USD", "year"),
    "$500 - 1,000 per month": (6_000, 12_000, "USD", "month"),  # both whole: no scaling
    # a multiplier on one end covers the other only where the range stays a range
    "$677–$1k/year": (677, 1_000, "USD", "year"),
    "$500-$1k/month": (6_000, 12_000, "USD", "month"),
    "$900 - $1.2k per week": (900 * 52, 1_200 * 52, "USD", "week"),
    # a comma left after the first figure
    "$75,700, - $87,500": (75_700, 87_500, "USD", "year"),
    "$90k, - $110k per year": (90_000, 110_000, "USD", "year"),
    # the period in a bracketed note without figures
    "p50,000 - 70,000 (monthly gross package)": (600_000, 840_000, "PHP", "month"),
    "EUR 4.000 - 5.000 (brutto pro Monat)": (48_000, 60_000, "EUR", "month"),
    "$30 - $40 (hourly, W2)": (30 * H, 40 * H, "USD", "hour"),
    # a named dollar beats a bare `$` in the same figure
    "$150,000.00/yr - A$160,000.00/yr": (150_000, 160_000, "AUD", "year"),
    "$120k - C$150k": (120_000, 150_000, "CAD", "year"),
    # a lower-case code as a label, one range per currency: the first range
    "usd: $160,000-$190,000 cad: $145,000-$180,000": (160_000, 190_000, "USD", "year"),
    "usd $160,000-$190,000 / cad $145,000-$180,000": (160_000, 190_000, "USD", "year"),
    # lower-case (and glued) ISO codes
    "90-110k usd": (90_000, 110_000, "USD", "year"),
    "25k-35k php/month": (300_000, 420_000, "PHP", "month"),
    "1.5-1.9 m huf": (1_500_000, 1_900_000, "HUF", "year"),
    "eur4000/month": (48_000, 48_000, "EUR", "month"),
    "60k-80k gbp": (60_000, 80_000, "GBP", "year"),
    # numbers that are not money give no salary
    "50/50 profit-sharing model": (None, None, None, None),
    "20% commission": (None, None, None, None),
    "Team of 5": (None, None, None, None),
    "10 employees": (None, None, None, None),
    "2025": (None, None, None, None),
    "Budget approved for 2026": (None, None, None, None),
    "24/7 support rota": (None, None, None, None),
    "USD Competitive": (None, None, None, None),  # seen
    "USD Kompetitif": (None, None, None, None),  # seen
    "5-10 people team, $90k": (90_000, 90_000, "USD", "year"),
    "2024-2025 budget: $60k-$70k": (60_000, 70_000, "USD", "year"),
    # several figures
    "€50k-€60k or USD 55k-66k": (50_000, 60_000, "EUR", "year"),
    "$100k-$120k / €90k-€110k": (100_000, 120_000, "USD", "year"),
    "€80k - €100k / USD 90k - 110k": (80_000, 100_000, "EUR", "year"),
    "$50,000 - $60,000 - $70,000": (50_000, 70_000, "USD", "year"),
    "$40,000 base, $70,000 OTE": (40_000, 70_000, "USD", "year"),
    "$60k base + $90k OTE": (60_000, 90_000, "USD", "year"),
    # everyday shapes
    "$60k–$80k": (60_000, 80_000, "USD", "year"),
    "$60k—$80k": (60_000, 80_000, "USD", "year"),
    "USD 50,000 - 60,000": (50_000, 60_000, "USD", "year"),
    "40-50K EUR": (40_000, 50_000, "EUR", "year"),
    "$5,000/month": (60_000, 60_000, "USD", "month"),
    "$100k+": (100_000, None, "USD", "year"),
    "Up to £40k": (None, 40_000, "GBP", "year"),
    "CHF 100'000": (100_000, 100_000, "CHF", "year"),
    "CHF 100'000 - 120'000": (100_000, 120_000, "CHF", "year"),
    "₹10 LPA": (1_000_000, 1_000_000, "INR", "year"),
    "INR 6-8 LPA": (600_000, 800_000, "INR", "year"),
    "₹8-12 lakh per annum": (800_000, 1_200_000, "INR", "year"),
    "£400-£500 per day": (400 * D, 500 * D, "GBP", "day"),
    "£400pd": (400 * D, 400 * D, "GBP", "day"),
    "R 30 000 pm": (360_000, 360_000, "ZAR", "month"),
    "£14 - £16 per hour": (14 * H, 16 * H, "GBP", "hour"),  # seen
    "€70,000 - €90,000 per year": (70_000, 90_000, "EUR", "year"),  # seen
    "$300K–$500K a year": (300_000, 500_000, "USD", "year"),  # seen
    "$50 - $150/hr": (50 * H, 150 * H, "USD", "hour"),  # seen
    "$120,000-$150,000/yr": (120_000, 150_000, "USD", "year"),  # seen
    "USD 180k - 220k per year": (180_000, 220_000, "USD", "year"),  # seen
    "USD 165,000 - 195,000": (165_000, 195_000, "USD", "year"),  # seen
    "USD 180,000 – 220,000/yearly": (180_000, 220_000, "USD", "year"),  # seen
    "USD 1500 – 3500 / month": (18_000, 42_000, "USD", "month"),  # seen
    "USD 3000-4000": (36_000, 48_000, "USD", "month"),  # seen
    "R$ 18.000,00": (216_000, 216_000, "BRL", "month"),  # seen
    "$71K": (71_000, 71_000, "USD", "year"),  # seen
    "€65,000 – €75,000 EUR": (65_000, 75_000, "EUR", "year"),
    "60 000 - 70 000 € brut/an": (60_000, 70_000, "EUR", "year"),
    "Hourly: $30-$40": (30 * H, 40 * H, "USD", "hour"),
    "$45-55/hr": (45 * H, 55 * H, "USD", "hour"),
    "$18.50 - $22.00 per hour": (18.5 * H, 22 * H, "USD", "hour"),
    "2k-3k USD/month": (24_000, 36_000, "USD", "month"),
    "$100-120k + 0.1% equity": (100_000, 120_000, "USD", "year"),
    "Salary range: $130,000—$160,000 USD": (130_000, 160_000, "USD", "year"),
    "$200K - $250K base + equity": (200_000, 250_000, "USD", "year"),
    "¥8,000,000 - ¥12,000,000": (8_000_000, 12_000_000, "JPY", "year"),
    "Up to $2,000 per month (paid in USDT)": (None, 24_000, "USD", "month"),
    "Competitive salary + equity": (None, None, None, None),
    "Between USD 2,000 and USD 3,000 per month": (24_000, 36_000, "USD", "month"),
    "$35 – $45 USD per hour": (35 * H, 45 * H, "USD", "hour"),
    "$110k-$130k/yr (US), $90k-$110k (EU)": (110_000, 130_000, "USD", "year"),
    "$125,000 - $155,000 base salary + equity": (125_000, 155_000, "USD", "year"),
    "AUD 120k - 140k + super": (120_000, 140_000, "AUD", "year"),
    "$1.2M - $1.5M": (1_200_000, 1_500_000, "USD", "year"),
    "3 days per week, $500/day": (500 * D, 500 * D, "USD", "day"),  # its own period first
    "€50k-€60k or $5k/month": (50_000, 60_000, "EUR", "year"),  # not the other figure's
    "$22/hr, 20 hrs/week": (22 * H, 22 * H, "USD", "hour"),
    "Up to $25 per hour + 10% commission per sale": (None, 25 * H, "USD", "hour"),
    "$45,000 - $55,000 (40 hours/week)": (45_000, 55_000, "USD", "year"),
    "$4-6k/month": (48_000, 72_000, "USD", "month"),
    "between 60 and 80k EUR": (60_000, 80_000, "EUR", "year"),
    "$90 - 110K": (90_000, 110_000, "USD", "year"),
    "Base salary $120k-$140k; OTE $180k-$200k": (120_000, 140_000, "USD", "year"),
    "$50k - $60k (in USD, paid monthly)": (50_000, 60_000, "USD", "year"),
    "Team of 5 (USD 50k - 60k)": (50_000, 60_000, "USD", "year"),
    "$5,000 sign-on bonus, $90k": (90_000, 90_000, "USD", "year"),  # a bonus is not the pay
    "$2,000 relocation allowance; $70k-$80k": (70_000, 80_000, "USD", "year"),
    "$40,000 per year + $500 monthly stipend for equipment": (40_000, 40_000, "USD", "year"),
    "$5k bonus": (None, None, None, None),
    "2-3 mln pln": (2_000_000, 3_000_000, "PLN", "year"),
    "1,2 Mio. €": (1_200_000, 1_200_000, "EUR", "year"),
    "US $ 100k - US $ 120k": (100_000, 120_000, "USD", "year"),
    "€40 - 50.000": (40_000, 50_000, "EUR", "year"),
    "Php 50,000": (50_000, 50_000, "PHP", "year"),
    "Salary: Competitive (Up to $150k)": (None, 150_000, "USD", "year"),
    "100-120k$": (100_000, 120_000, "USD", "year"),
    "$15 per hour / $31,200 per year": (15 * H, 15 * H, "USD", "hour"),
    "$100 a day to $150 a day": (100 * D, 150 * D, "USD", "day"),
    "$1.5 million": (1_500_000, 1_500_000, "USD", "year"),
    # period words of European boards
    "15 000 - 20 000 zł/mies.": (180_000, 240_000, "PLN", "month"),
    "€4.000 - €5.000 brutto/Monat": (48_000, 60_000, "EUR", "month"),
    "€50.000 - €60.000 brutto/Jahr": (50_000, 60_000, "EUR", "year"),
    "2.500 - 3.500 € al mes": (30_000, 42_000, "EUR", "month"),
    "40.000€ - 55.000€ / año": (40_000, 55_000, "EUR", "year"),
    "60 000 € par an": (60_000, 60_000, "EUR", "year"),
    "50 €/Stunde": (50 * H, 50 * H, "EUR", "hour"),
    "3000 € monatlich": (36_000, 36_000, "EUR", "month"),
    "R$ 8.000 a R$ 12.000": (96_000, 144_000, "BRL", "month"),
    "50.000 bis 60.000 EUR": (50_000, 60_000, "EUR", "year"),
    "entre 3000 y 4000 USD": (36_000, 48_000, "USD", "month"),
    "7.000 - 9.000 BRL/mês": (84_000, 108_000, "BRL", "month"),
    "Up to 3.000€/mes": (None, 36_000, "EUR", "month"),
    "2 Millionen €": (2_000_000, 2_000_000, "EUR", "year"),
    "5 a 10 anos de experiência": (None, None, None, None),
}

# Units that are not pay periods: no annual figure, flagged for the parse report.
NOT_ANNUALISABLE_TEXTS = [
    "$50 per article",
    "$0.10 per word",
    "$25 per 1000 words",
    "$1,000 per course",
    "$40/lesson",
    "$500 per project",
    "$30 per call",
    "£20 per session",
    "$15 per task",
    "$2 per minute of audio",
    "$100 per completed task",
    "$30 per 1,000 words",
    "Per article: $50",
]


# Remotive `salary` strings as served, from API responses other projects saved
# (themikemoniker/contract-scraper data/sources/remotive.json, yagosilvax/
# Data-Enginnering-Remotive-API, breixoperezalvarez/germany-job-search-pipeline,
# romek2/myjobwebapp, Creampanda/jobscout), each judged by hand; those already in
# the tables above are left out.
REAL_REMOTIVE_CASES: dict[str, tuple[float | None, float | None, str | None, str | None]] = {
    "$120 - $170 /hour": (249_600, 353_600, "USD", "hour"),
    "$120k - $220k": (120_000, 220_000, "USD", "year"),
    "$12K": (144_000, 144_000, "USD", "month"),
    "$130k - $150k": (130_000, 150_000, "USD", "year"),
    "$135k - $165k / year": (135_000, 165_000, "USD", "year"),
    "$14/hour": (29_120, 29_120, "USD", "hour"),
    "$14/hr": (29_120, 29_120, "USD", "hour"),
    "$150k - $230k": (150_000, 230_000, "USD", "year"),
    "$160k - $180k": (160_000, 180_000, "USD", "year"),
    "$165,000 - $300,000": (165_000, 300_000, "USD", "year"),
    "$165k - $300k": (165_000, 300_000, "USD", "year"),
    "$170k - $200k": (170_000, 200_000, "USD", "year"),
    "$175k - $225k": (175_000, 225_000, "USD", "year"),
    "$18 - $22/hr": (37_440, 45_760, "USD", "hour"),
    "$180k + bonus up to 100%": (180_000, 180_000, "USD", "year"),
    "$180k + performance bonus": (180_000, 180_000, "USD", "year"),
    "$20k-$25k": (20_000, 25_000, "USD", "year"),
    "$220k-$300k OTE": (220_000, 300_000, "USD", "year"),
    "$30-$35/hour": (62_400, 72_800, "USD", "hour"),
    "$30k - $100k": (30_000, 100_000, "USD", "year"),
    "$30k - $40k": (30_000, 40_000, "USD", "year"),
    "$30–$60/hour": (62_400, 124_800, "USD", "hour"),
    "$36k": (36_000, 36_000, "USD", "year"),
    "$3k - $10k": (36_000, 120_000, "USD", "month"),
    "$40- $60k": (40_000, 60_000, "USD", "year"),
    "$45,000 - $50,000": (45_000, 50_000, "USD", "year"),
    "$45k - $65k": (45_000, 65_000, "USD", "year"),
    "$45k- $65k": (45_000, 65_000, "USD", "year"),
    "$48k - $60k": (48_000, 60_000, "USD", "year"),
    "$55k - $100k": (55_000, 100_000, "USD", "year"),
    "$60k–$72k": (60_000, 72_000, "USD", "year"),
    "$75k - $95k": (75_000, 95_000, "USD", "year"),
    "$80k - $100k": (80_000, 100_000, "USD", "year"),
    "$80k - $120k": (80_000, 120_000, "USD", "year"),
    "$90 - $150 /hour": (187_200, 312_000, "USD", "hour"),
    "€60k - €75k": (60_000, 75_000, "EUR", "year"),
}

# Issue 28: the classes round two still missed.
LEFTOVER_CASES: dict[str, tuple[float | None, float | None, str | None, str | None]] = {
    # a small amount with a lower-case ISO code and no symbol
    "17 usd/hour": (17 * H, 17 * H, "USD", "hour"),
    "25-30 eur/h": (25 * H, 30 * H, "EUR", "hour"),
    "20 usd per hour": (20 * H, 20 * H, "USD", "hour"),
    "15 cad/hr": (15 * H, 15 * H, "CAD", "hour"),
    "usd 25-30 per hour": (25 * H, 30 * H, "USD", "hour"),
    "eur 25-30": (25 * H, 30 * H, "EUR", "hour"),  # no marker: hourly by size
    "450 eur /manday": (450 * 260, 450 * 260, "EUR", "day"),
    # day rates per manday / per diem
    "800 EUR per manday": (800 * 260, 800 * 260, "EUR", "day"),
    "1200/manday": (1200 * 260, 1200 * 260, None, "day"),
    "900 EUR per man-day": (900 * 260, 900 * 260, "EUR", "day"),
    "€500 per diem": (500 * 260, 500 * 260, "EUR", "day"),
    # working time is not the pay period
    "40h/week, €50k": (50_000, 50_000, "EUR", "year"),
    "25 €/h, 20h/week": (25 * H, 25 * H, "EUR", "hour"),
    "20 hrs/week at $25": (25 * H, 25 * H, "USD", "hour"),
    # lakh and crore are Indian rupees
    "12 - 18 LPA": (1_200_000, 1_800_000, "INR", "year"),
}

# Issue 28, round three: classes found in the tuning half of the hand-labelled real
# strings (data/salary_labels.csv, scored in test_salary_labels.py); these are variants
# of each class, not the labelled strings.
ROUND_THREE_CASES: dict[str, tuple[float | None, float | None, str | None, str | None]] = {
    # Dutch: `tussen A en B`, `minimaal A en maximaal B`, `tot B`, `per maand`, hours worked
    "Salaris tussen €2.800 en €3.400 bruto per maand": (2_800 * M, 3_400 * M, "EUR", "month"),
    "minimaal €4.100,- en maximaal €5.900,- bruto per maand": (
        4_100 * M,
        5_900 * M,
        "EUR",
        "month",
    ),
    "Een salaris tot € 5.000,- bruto per maand": (None, 5_000 * M, "EUR", "month"),
    "€3.200 per maand, 36 uur per week": (3_200 * M, 3_200 * M, "EUR", "month"),
    "maandsalaris € 3.600": (3_600 * M, 3_600 * M, "EUR", "month"),
    # German `Mindest...` is a lower bound; Spanish plural period words
    "Mindestgehalt € 2.800/Monat": (2_800 * M, None, "EUR", "month"),
    "3.500 USD mensuales": (3_500 * M, 3_500 * M, "USD", "month"),
    # `Starting salary: X` is the pay, `starting at X` a lower bound
    "Starting salary: $55,000": (55_000, 55_000, "USD", "year"),
    "Starting Pay: $19.75/hour": (19.75 * H, 19.75 * H, "USD", "hour"),
    # how often pay is paid is not the figure's period; `annualized` is a year
    "$70,000 - $90,000, paid bi-weekly": (70_000, 90_000, "USD", "year"),
    "$88,000 annualized, paid semi-monthly": (88_000, 88_000, "USD", "year"),
    "$60,000 - $75,000 on a bi-weekly basis": (60_000, 75_000, "USD", "year"),
    # the label right before the figure names its period; else the nearest marker before
    "Monthly allowance: PHP 15,000": (15_000 * M, 15_000 * M, "PHP", "month"),
    "Average weekly pay: $1,200": (1_200 * W, 1_200 * W, "USD", "week"),
    "Hourly contractors; monthly earnings $2k-$3k": (2_000 * M, 3_000 * M, "USD", "month"),
    "Pay ranges for hourly and salaried roles must be shown in each posting; for this role "
    "the range is $90,000 - $110,000": (90_000, 110_000, "USD", "year"),  # too far off
    "As stated in a job posting, the range is $90,000 - $110,000": (90_000, 110_000, "USD", "year"),
    # connectors: a dash doubled with `to`, a range that lost its dash
    "£95,000 - to £120,000": (95_000, 120_000, "GBP", "year"),
    "$95,000 $120,000": (95_000, 120_000, "USD", "year"),
    # a `k` written onto a grouped figure repeats it
    "$60,000 - $75,000K": (60_000, 75_000, "USD", "year"),
    # words run together where markup was stripped
    "Rate: $45/hourRemote within the US": (45 * H, 45 * H, "USD", "hour"),
    "$150kbase + bonus": (150_000, 150_000, "USD", "year"),
    # `PHP 8` is the language; pesos keep their figures
    "PHP 8.2": (None, None, None, None),
    "Laravel, PHP 7 or 8": (None, None, None, None),
    "PHP 8 developer, 90k": (90_000, 90_000, None, "year"),
    "PHP 7,500": (7_500 * M, 7_500 * M, "PHP", "month"),
    "PHP 5,000/month": (5_000 * M, 5_000 * M, "PHP", "month"),
    # a probe's misreads: days of work are no pay period, and "from"/"up to" in the
    # boards' other languages and after the figure bound one side only
    "$110k-$130k, hybrid 2 days/week": (110_000, 130_000, "USD", "year"),
    "$120k, 3 days/week in office": (120_000, 120_000, "USD", "year"),
    "$120k-$140k - 4 day week": (120_000, 140_000, "USD", "year"),
    "ab 55.000 €": (55_000, None, "EUR", "year"),
    "Ab 4.000 € brutto monatlich": (4_000 * M, None, "EUR", "month"),
    "à partir de 50k€": (50_000, None, "EUR", "year"),
    "jusqu'à 70k€": (None, 70_000, "EUR", "year"),
    "desde 30.000 €": (30_000, None, "EUR", "year"),
    "hasta 40.000 €": (None, 40_000, "EUR", "year"),
    "vanaf €3.500 per maand": (3_500 * M, None, "EUR", "month"),
    "$120k max": (None, 120_000, "USD", "year"),
    "$100k minimum": (100_000, None, "USD", "year"),
    "less than $50k": (None, 50_000, "USD", "year"),
    "60.000 €+": (60_000, None, "EUR", "year"),
    "What we do: $50k": (50_000, 50_000, "USD", "year"),  # English "do" bounds nothing
}

#: a review of 913 real salary strings never seen (2026-12-07, BENCHMARKS.md): each class
#: it found wrong, as the boards wrote it
REVIEW_CASES: dict[str, tuple[float | None, float | None, str | None, str | None]] = {
    # dashes of text read as Latin-1 where a board did not repair it: still a range
    "OTE: $6,000\u00e2\x80\x93$12,000/month": (6_000 * M, 12_000 * M, "USD", "month"),
    "Canada (CAD): $103,700 \u00e2\x80\x93 $140,300": (103_700, 140_300, "CAD", "year"),
    "$109,200.00 \u00e2\u20ac\u201d $182,000.00": (109_200, 182_000, "USD", "year"),
    # a lower-case code before a spaced dollar is the code
    "us $160,000 to us $230,000": (160_000, 230_000, "USD", "year"),
    # "and up to" joins a range; "begins at" is "starts at"
    "will begin at $146,610.00 and up to $207,700.00.": (146_610, 207_700, "USD", "year"),
    "The salary begins at $130,000.": (130_000, None, "USD", "year"),
    # "from home" and "the above" bound nothing
    "We work from home. Starting wage is $16 / hour": (16 * H, 16 * H, "USD", "hour"),
    "The above compensation is a base salary of $90,000": (90_000, 90_000, "USD", "year"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *WILD_CASES.items(),
        *REAL_REMOTIVE_CASES.items(),
        *LEFTOVER_CASES.items(),
        *ROUND_THREE_CASES.items(),
        *REVIEW_CASES.items(),
    ],
)
def test_parse_salary_text_from_the_wild(text: str, expected: tuple) -> None:
    salary = parse_salary_text(text)
    assert (salary.min, salary.max, salary.currency, salary.period) == pytest.approx(expected)
    assert not salary.not_annualisable


@pytest.mark.parametrize("text", NOT_ANNUALISABLE_TEXTS)
def test_piece_rates_are_not_annualised(text: str) -> None:
    salary = parse_salary_text(text)
    assert salary.not_annualisable
    assert (salary.min, salary.max, salary.period) == (None, None, None)
    assert not salary.parsed


@pytest.mark.parametrize(
    ("text", "from_size"),
    [
        ("$60k-$80k", True),
        ("45,000", True),
        ("£5,000", True),
        ("£26,800 plus monthly bonus", True),
        ("€48,000 (paid monthly)", True),  # bracketed period words do not count
        ("$60k-$80k per year", False),
        ("$25/hr", False),
        ("RM2,250 monthly", False),
        ("Competitive", False),
    ],
)
def test_period_from_size_flag(text: str, from_size: bool) -> None:
    assert parse_salary_text(text).period_from_size is from_size


@pytest.mark.parametrize(("text", "expected"), SALARY_TEXT_CASES.items())
def test_parse_salary_text(text: str, expected: tuple) -> None:
    salary = parse_salary_text(text)
    assert (salary.min, salary.max, salary.currency, salary.period) == pytest.approx(expected)
    assert salary.parsed == (expected[0] is not None or expected[1] is not None)


def test_parse_salary_text_none() -> None:
    assert parse_salary_text(None) == Salary()
    assert not parse_salary_text(None).parsed


def _fixture_jobs(pattern: str) -> list[dict]:
    jobs = []
    for path in sorted(FIXTURES.glob(pattern)):
        jobs.extend(json.loads(path.read_text(encoding="utf-8"))["jobs"])
    return jobs


def test_every_remotive_fixture_salary_is_in_the_table() -> None:
    salaries = {job.get("salary") or "" for job in _fixture_jobs("remotive*.json")}
    assert salaries, "no Remotive fixture found"
    assert salaries <= SALARY_TEXT_CASES.keys()


# (min, max, period, currency) as the source gives them -> expected Salary
STRUCTURED_CASES = [
    # Jobicy (older API): annualSalaryMin/Max, no period
    ((113000, 155000, None, "USD"), Salary(113_000, 155_000, "USD", "year")),
    ((107000, 149000, None, "USD"), Salary(107_000, 149_000, "USD", "year")),
    ((50000, 0, None, "USD"), Salary(50_000, None, "USD", "year")),  # annualSalaryMax: 0
    # Jobicy (2026 API): salaryMin/salaryMax/salaryPeriod
    ((40, 55, "hourly", "USD"), Salary(40 * H, 55 * H, "USD", "hour")),
    (("5000", "7000", "monthly", "EUR"), Salary(60_000, 84_000, "EUR", "month")),
    ((90000, 120000, "yearly", "GBP"), Salary(90_000, 120_000, "GBP", "year")),
    # Himalayas
    ((83, 105, "hourly", "USD"), Salary(83 * H, 105 * H, "USD", "hour")),
    ((80, 120, "hourly", "USD"), Salary(80 * H, 120 * H, "USD", "hour")),
    ((4, 5500, "monthly", "USD"), Salary(48, 66_000, "USD", "month")),
    ((600000, 660000, None, "PHP"), Salary(600_000, 660_000, "PHP", "year")),
    ((108700, 163100, None, "USD"), Salary(108_700, 163_100, "USD", "year")),
    ((None, None, "annual", None), Salary()),
    ((None, None, None, "USD"), Salary()),
    # numeric strings, reversed, garbage
    (("60,000", "50000.0", "annual", "usd"), Salary(50_000, 60_000, "USD", "year")),
    ((0, 0, "year", "USD"), Salary()),
    ((True, [1], "year", {}), Salary()),
    (("abc", float("nan"), object(), 5), Salary()),
    ((float("inf"), 70000, "weird period", "USD"), Salary(None, 70_000, "USD", "year")),
    ((-5, 100, "day", "EUR"), Salary(None, 100 * D, "EUR", "day")),
]


@pytest.mark.parametrize(("args", "expected"), STRUCTURED_CASES)
def test_structured_salary(args: tuple, expected: Salary) -> None:
    assert structured_salary(*args) == expected


def test_structured_salary_from_fixtures() -> None:
    """Every recorded structured salary annualises without error, to an expected period."""
    for job in _fixture_jobs("jobicy*.json"):
        salary = structured_salary(
            job.get("salaryMin", job.get("annualSalaryMin")),
            job.get("salaryMax", job.get("annualSalaryMax")),
            job.get("salaryPeriod"),
            job.get("salaryCurrency"),
        )
        assert salary.period in (None, "year")
    for job in _fixture_jobs("himalayas*.json"):
        salary = structured_salary(
            job.get("minSalary"), job.get("maxSalary"), job.get("salaryPeriod"), job.get("currency")
        )
        if salary.parsed:
            assert salary.period in PERIOD_FACTORS


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hourly", "hour"),
        ("per hour", "hour"),
        ("Hour", "hour"),
        ("daily", "day"),
        ("weekly", "week"),
        ("fortnightly", "fortnight"),
        ("biweekly", "fortnight"),
        ("monthly", "month"),
        ("per month", "month"),
        ("annual", "year"),
        ("Annually", "year"),
        ("yearly", "year"),
        ("year", "year"),
        ("per annum", "year"),
        ("p.a.", "year"),
        ("", None),
        ("quarterly", None),
        (None, None),
        (12, None),
    ],
)
def test_normalise_period(word: object, expected: str | None) -> None:
    assert normalise_period(word) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((83, 105, "USD", "hourly"), "USD 83-105 per hour"),
        ((4, 5500, "USD", "monthly"), "USD 4-5500 per month"),
        ((600000, 660000, "PHP", None), "PHP 600000-660000 per year"),
        ((50000, 0, "USD", None), "from USD 50000 per year"),
        ((None, 90000, "EUR", "annual"), "up to EUR 90000 per year"),
        ((70000, 70000, None, "year"), "70000 per year"),
        ((12.5, 15.25, "USD", "hourly"), "USD 12.5-15.25 per hour"),
        ((None, None, "USD", "annual"), None),
        ((0, 0, "USD", None), None),
    ],
)
def test_render_salary(args: tuple, expected: str | None) -> None:
    assert render_salary(*args) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (50_000, 80_000, True),
        (None, None, True),
        (None, 1_000, True),
        (2_000_000, None, True),
        (48, 66_000, False),  # Himalayas "4-5500 monthly"
        (999.99, 5_000, False),
        (100_000, 2_000_001, False),
        (float("nan"), 50_000, True),
    ],
)
def test_is_plausible(low: float | None, high: float | None, expected: bool) -> None:
    assert is_plausible(low, high) is expected


@given(st.text(max_size=200))
def test_parse_salary_text_never_raises(text: str) -> None:
    salary = parse_salary_text(text)
    _check_invariants(salary)


_SALARYISH = st.lists(
    st.sampled_from(
        ["$", "€", "£", "C$", "USD", "k", "K", "-", " - ", " to ", "up to ", "from ", "+", ",", "."]
        + ["/hour", "/month", " per year", " daily", "(", ")", "OTE ", " "]
        + [str(n) for n in (0, 1, 5, 12, 31, 150, 299, 300, 999, 1000, 19999, 20000, 45000)]
    ),
    max_size=12,
).map("".join)


@given(_SALARYISH)
def test_parse_salaryish_text_invariants(text: str) -> None:
    _check_invariants(parse_salary_text(text))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)


@given(json_values, json_values, json_values, json_values)
def test_structured_salary_never_raises(a: object, b: object, p: object, c: object) -> None:
    salary = structured_salary(a, b, p, c)
    _check_invariants(salary)
    render_salary(a, b, c, p)


def _check_invariants(salary: Salary) -> None:
    if salary.min is not None and salary.max is not None:
        assert salary.min <= salary.max
    if salary.parsed:
        assert salary.period in PERIOD_FACTORS
        assert all(v is None or v > 0 for v in (salary.min, salary.max))
    else:
        assert salary in (Salary(), Salary(not_annualisable=True))
    assert salary.currency is None or (len(salary.currency) == 3 and salary.currency.isupper())
