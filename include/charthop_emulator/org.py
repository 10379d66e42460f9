"""Seeded generator of a fake ChartHop org: jobs, people, their history, and app users.

Everything is derived from one ``random.Random(seed)`` consumed in a fixed order, so the
same (seed, jobs_today, today) always yields the same org. Dates are kept as proleptic
Gregorian ordinals (``date.toordinal()``) because the generator and the filters compare
hundreds of thousands of them.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

HISTORY_YEARS = 8
FILLED_SHARE = 0.90
DELETED_JOB_SHARE = 0.12
UPCOMING_HIRE_SHARE = 0.15
ANNOUNCED_DEPARTURE_SHARE = 0.015
MEAN_TENURE_DAYS = 1100
MEAN_VACANCY_DAYS = 45

EMPLOYMENT_TYPES = ("FULL", "PART", "TEMP", "CONTRACT", "INTERN", "EXPAT")
EMPLOYMENT_WEIGHTS = (75, 6, 4, 8, 4, 3)

# Units of currency per US dollar, rounded; only used to size salaries plausibly.
USD_RATES = {
    "USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 150.0, "INR": 83.0, "MXN": 17.0,
    "BRL": 5.0, "CAD": 1.36, "ILS": 3.7, "CHF": 0.88,
}

# (name, city, ISO country, local currency, weight). The first six are always used so that
# every org has USD, GBP, EUR, JPY, INR and MXN salaries.
LOCATIONS = (
    ("New York HQ", "New York", "US", "USD", 30),
    ("London", "London", "GB", "GBP", 10),
    ("Berlin", "Berlin", "DE", "EUR", 8),
    ("Tokyo", "Tokyo", "JP", "JPY", 6),
    ("Bengaluru", "Bengaluru", "IN", "INR", 10),
    ("Ciudad de México", "Ciudad de México", "MX", "MXN", 6),
    ("San Francisco", "San Francisco", "US", "USD", 12),
    ("São Paulo", "São Paulo", "BR", "BRL", 5),
    ("Tel Aviv", "Tel Aviv", "IL", "ILS", 4),
    ("Toronto", "Toronto", "CA", "CAD", 5),
    ("Zürich", "Zürich", "CH", "CHF", 3),
    ("Paris", "Paris", "FR", "EUR", 5),
)

# Department name -> job title of an individual contributor there.
DEPARTMENTS = (
    ("Engineering", "Software Engineer"),
    ("Sales", "Account Executive"),
    ("Marketing", "Marketing Specialist"),
    ("Finance", "Financial Analyst"),
    ("People", "People Partner"),
    ("Customer Success", "Customer Success Manager"),
    ("Product", "Product Manager"),
    ("Design", "Product Designer"),
    ("Legal", "Counsel"),
    ("Operations", "Operations Analyst"),
    ("Research & Development", "Research Scientist"),
    ("IT", "IT Support Engineer"),
)
EXECUTIVE_DEPARTMENT = "Executive"

# Name pools per culture: (first names, last names). They cover accents, CJK, Arabic and
# Hebrew scripts, apostrophes and commas, which client code must carry through unchanged.
NAME_POOLS = (
    (("James", "Mary", "Robert", "Patricia", "Michael", "Linda", "Emily", "Daniel", "Sarah", "Kevin"),
     ("Smith", "Johnson", "O'Brien", "D'Angelo", "Smith, Jr.", "Williams", "Brown", "Taylor", "McAllister")),
    (("José", "María", "Lucía", "Sofía", "Andrés", "Iñigo", "Mateo", "Álvaro"),
     ("Ñúñez", "García", "Martínez", "Pérez", "Fernández", "Ortiz", "Muñoz")),
    (("Zoë", "Chloé", "Hélène", "Jürgen", "François", "Björn", "Léa", "Søren"),
     ("Müller", "Dubois", "Lefèvre", "Schröder", "Østergaard", "Noël")),
    (("芳", "伟", "娜", "静", "磊"), ("王", "李", "张", "刘", "陈")),
    (("太郎", "花子", "翔太", "陽菜", "蓮"), ("山田", "佐藤", "鈴木", "高橋", "田中")),
    (("محمد", "فاطمة", "أحمد", "ليلى", "يوسف"), ("العلي", "حسن", "الخطيب", "منصور")),
    (("נועה", "דוד", "יעל", "אריאל", "תמר"), ("כהן", "לוי", "מזרחי", "פרץ")),
    (("Priya", "Arjun", "Ananya", "Rohan", "Kavya"), ("Sharma", "Patel", "Iyer", "Reddy", "Nair")),
)
NAME_POOL_WEIGHTS = (30, 15, 12, 8, 8, 8, 6, 13)

# The first people generated get these names, so that even a tiny org contains every script.
SHOWCASE_NAMES = (
    ("José", "Ñúñez"), ("Zoë", "Dubois"), ("芳", "王"), ("太郎", "山田"), ("محمد", "العلي"),
    ("נועה", "כהן"), ("Sean", "O'Brien"), ("Marco", "D'Angelo"), ("John", "Smith, Jr."),
)

PREFERRED_NAMES = {"Robert": "Bob", "Michael": "Mike", "Patricia": "Pat", "Daniel": "Dan", "María": "Mari"}

CONTRACT_SCHEMES = {
    "FULL": ["Nómina"], "PART": ["Nómina"], "EXPAT": ["Nómina", "Expatriado"],
    "CONTRACT": ["Contractor"], "TEMP": ["Contractor", "Agencia"], "INTERN": ["Prácticas"],
}


@dataclass(slots=True)
class Group:
    """A department or a location."""

    id: str
    name: str
    city: str | None = None
    country: str | None = None
    currency: str | None = None


@dataclass(slots=True)
class Person:
    """A person. Each generated person has at most one job during their life."""

    id: str
    first: str
    last: str
    pref: str | None
    seq: int
    employee: str = ""
    work_email: str = ""
    work_phone: str = ""
    interval: str = "YEARLY"
    pay: float = 0.0
    currency: str = "USD"
    perf_rating: float | None = None
    contract_scheme: list[str] = field(default_factory=list)
    occupancy: Occupancy | None = None
    # A shared empty tuple rather than a list per person keeps generating 100,000 people fast.
    pay_changes: tuple[PayChange, ...] = ()

    def pay_on(self, day: int) -> tuple[float, str, str]:
        """Return (amount, currency, interval) of the base pay in force on ``day``."""
        pay, currency, interval = self.pay, self.currency, self.interval
        for change in self.pay_changes:
            if change.day > day:
                break
            pay, currency, interval = change.pay, change.currency, change.interval
        return pay, currency, interval


@dataclass(slots=True)
class PayChange:
    """A base pay that takes effect on ``day`` (a day ordinal); the generated pay applies before the first one."""

    day: int
    pay: float
    currency: str
    interval: str


@dataclass(slots=True)
class JobChange:
    """A title or department that takes effect on ``day``; None leaves that field as it was."""

    day: int
    title: str | None = None
    department: Group | None = None


@dataclass(slots=True)
class Occupancy:
    """A person in a job from ``start`` to ``end`` (both day ordinals, end inclusive, None = open-ended)."""

    job: Job
    person: Person
    start: int
    end: int | None

    def active_on(self, day: int) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(slots=True)
class Job:
    """A job (position). It exists on days ``create <= day < delete``."""

    id: str
    title: str
    create: int
    delete: int | None
    manager: Job | None
    depth: int
    department: Group
    location: Group
    employment: str
    cost_center: str
    occupancies: list[Occupancy] = field(default_factory=list)
    children: list[Job] = field(default_factory=list)
    planned_start: int | None = None
    manager_ids: list[str] = field(default_factory=list)
    changes: tuple[JobChange, ...] = ()

    def alive_on(self, day: int) -> bool:
        return self.create <= day and (self.delete is None or day < self.delete)

    def title_on(self, day: int) -> str:
        """Return the title in force on ``day`` (``changes`` is kept sorted by day)."""
        title = self.title
        for change in self.changes:
            if change.day > day:
                break
            if change.title is not None:
                title = change.title
        return title

    def department_on(self, day: int) -> Group:
        """Return the department in force on ``day``."""
        department = self.department
        for change in self.changes:
            if change.day > day:
                break
            if change.department is not None:
                department = change.department
        return department

    def occupancy_on(self, day: int) -> Occupancy | None:
        for occ in self.occupancies:
            if occ.active_on(day):
                return occ
        return None

    def next_occupancy_after(self, day: int) -> Occupancy | None:
        for occ in self.occupancies:
            if occ.start > day:
                return occ
        return None

    def vacancy_start(self, day: int) -> int:
        """Return the first day of the vacancy that contains ``day`` (an open day of this job)."""
        start = self.create
        for occ in self.occupancies:
            if occ.end is not None and occ.end < day:
                start = max(start, occ.end + 1)
        return start


@dataclass(slots=True)
class User:
    """A ChartHop user: a login linked to a person, or the app user that owns the API token."""

    id: str
    first: str
    last: str
    email: str
    type: str
    access: str
    person_id: str | None = None
    app_id: str | None = None


@dataclass(slots=True)
class Org:
    """The generated org. Only ``edits.OrgEditor`` changes it after it is built."""

    id: str
    slug: str
    name: str
    today: int
    jobs: list[Job]
    persons: list[Person]
    users: list[User]
    departments: list[Group]
    locations: list[Group]
    jobs_by_id: dict[str, Job] = field(default_factory=dict)
    persons_by_id: dict[str, Person] = field(default_factory=dict)

    @property
    def today_date(self) -> date:
        return date.fromordinal(self.today)

    def jobs_alive_on(self, day: int) -> list[Job]:
        """Return the jobs that exist on ``day``, in ascending jobId order."""
        return [job for job in self.jobs if job.alive_on(day)]


def default_org_id(seed: int) -> str:
    """Derive the 24-hex org id used when none is given."""
    return hashlib.sha256(f"charthop-emulator-org-{seed}".encode()).hexdigest()[:24]


class _IdFactory:
    """Makes ObjectId-style 24-hex ids: 8 hex of a timestamp on the given day, then 16 random hex."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def make(self, day: int) -> str:
        midnight = (day - _UNIX_EPOCH_ORDINAL) * 86_400
        while True:
            stamp = midnight + self._rng.randrange(86_400)
            new_id = f"{stamp & 0xFFFFFFFF:08x}{self._rng.getrandbits(64):016x}"
            if new_id not in self._seen:
                self._seen.add(new_id)
                return new_id


_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EMPLOYMENT_CUM_WEIGHTS = list(itertools.accumulate(EMPLOYMENT_WEIGHTS))
_NAME_POOL_CUM_WEIGHTS = list(itertools.accumulate(NAME_POOL_WEIGHTS))


def _exponential_days(rng: random.Random, mean: float) -> int:
    return int(-mean * math.log(1.0 - rng.random()))


@functools.lru_cache(maxsize=4096)
def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum())


class _OrgBuilder:
    """Holds the state of one generation run; ``build()`` returns the finished Org."""

    def __init__(self, jobs_today: int, seed: int, today: date, org_id: str, org_slug: str) -> None:
        if jobs_today < 1:
            raise ValueError(f"jobs_today must be at least 1, got {jobs_today}")
        self.rng = random.Random(seed)
        self.ids = _IdFactory(self.rng)
        self.jobs_today = jobs_today
        self.today = today.toordinal()
        self.history_start = self.today - HISTORY_YEARS * 365
        self.org_id = org_id
        self.org_slug = org_slug
        self.persons: list[Person] = []
        self.departments: list[Group] = []
        self.locations: list[Group] = []
        self.location_cum_weights: list[int] = []

    def build(self) -> Org:
        self._make_groups()
        jobs = self._make_jobs()
        self._fill_jobs(jobs)
        self._make_unplaced_persons()
        self._finish_persons()
        users = self._make_users(jobs)
        jobs.sort(key=lambda job: job.id)
        self.persons.sort(key=lambda person: person.id)
        org = Org(
            id=self.org_id, slug=self.org_slug, name=f"{self.org_slug.capitalize()} Corp", today=self.today,
            jobs=jobs, persons=self.persons, users=users, departments=self.departments, locations=self.locations,
        )
        org.jobs_by_id = {job.id: job for job in jobs}
        org.persons_by_id = {person.id: person for person in self.persons}
        return org

    def _make_groups(self) -> None:
        rng = self.rng
        department_count = rng.randint(8, 12)
        chosen = rng.sample(range(len(DEPARTMENTS)), department_count - 1)
        names = [EXECUTIVE_DEPARTMENT] + [DEPARTMENTS[index][0] for index in sorted(chosen)]
        self.departments = [Group(id=self.ids.make(self.history_start), name=name) for name in names]

        extra = rng.sample(range(6, len(LOCATIONS)), rng.randint(0, 4))
        for index in list(range(6)) + sorted(extra):
            name, city, country, currency, weight = LOCATIONS[index]
            self.locations.append(
                Group(id=self.ids.make(self.history_start), name=name, city=city, country=country, currency=currency)
            )
            self.location_cum_weights.append(weight + (self.location_cum_weights[-1] if self.location_cum_weights else 0))

    def _job_lifetimes(self) -> list[tuple[int, int | None]]:
        """Return (create, delete) for the root, the jobs alive today and the jobs deleted before today."""
        rng = self.rng
        span = self.today - self.history_start
        lifetimes: list[tuple[int, int | None]] = [(self.history_start, None)]
        for _ in range(self.jobs_today - 1):
            # Skewed towards recent dates: the org grew over the years.
            offset = int(span * rng.random() ** 1.6)
            lifetimes.append((max(self.history_start + 1, self.today - offset), None))
        for _ in range(round(self.jobs_today * DELETED_JOB_SHARE)):
            create = self.history_start + 1 + int(rng.random() * (span - 200))
            delete = create + 90 + int(rng.random() * (self.today - create - 91))
            lifetimes.append((create, delete))
        return lifetimes

    def _make_jobs(self) -> list[Job]:
        rng = self.rng
        lifetimes = self._job_lifetimes()
        order = sorted(range(len(lifetimes)), key=lambda index: (lifetimes[index][0], index))
        jobs: list[Job] = []
        # Only jobs that are never deleted can manage others, so a manager outlives every report.
        manager_pool: list[Job] = []
        vp_counter = 0
        for index in order:
            create, delete = lifetimes[index]
            if not jobs:
                manager, depth, department = None, 0, self.departments[0]
            else:
                manager = manager_pool[int(len(manager_pool) * rng.random() ** 1.3)]
                depth = manager.depth + 1
                if depth == 1:
                    department = self.departments[1 + vp_counter % (len(self.departments) - 1)]
                    vp_counter += 1
                elif rng.random() < 0.9 or manager.department.name != EXECUTIVE_DEPARTMENT:
                    department = manager.department
                else:
                    department = rng.choice(self.departments[1:])
            location = rng.choices(self.locations, cum_weights=self.location_cum_weights)[0]
            if depth < 3:
                employment = "FULL"
            else:
                employment = rng.choices(EMPLOYMENT_TYPES, cum_weights=_EMPLOYMENT_CUM_WEIGHTS)[0]
            job = Job(
                id=self.ids.make(create), title=self._title(depth, department.name), create=create, delete=delete,
                manager=manager, depth=depth, department=department, location=location, employment=employment,
                cost_center=f"CC-{1000 + 100 * self.departments.index(department) + self.locations.index(location)}",
            )
            if manager is not None:
                manager.children.append(job)
                job.manager_ids = [manager.id, *manager.manager_ids]
            jobs.append(job)
            if delete is None:
                manager_pool.append(job)
        return jobs

    def _title(self, depth: int, department: str) -> str:
        if depth == 0:
            return "Chief Executive Officer"
        if depth == 1:
            return f"VP of {department}"
        if depth == 2:
            return f"Director of {department}"
        if depth == 3:
            return f"{department} Manager"
        role = dict(DEPARTMENTS).get(department, "Analyst")
        return self.rng.choice((role, f"Senior {role}", f"{role} II"))

    def _fill_jobs(self, jobs: list[Job]) -> None:
        """Generate each job's occupancies by walking back in time from today or from its delete date."""
        rng = self.rng
        alive = [job for job in jobs if job.delete is None]
        filled_count = round(len(alive) * FILLED_SHARE)
        filled = set(id(job) for job in rng.sample(alive[1:], max(0, filled_count - 1)))
        filled.add(id(alive[0]))

        for job in jobs:
            segments: list[tuple[int, int | None]] = []
            if job.delete is not None:
                # A job is deleted only after its last occupant left, so its last segment is a vacancy.
                occupancy_end = job.delete - 2 - _exponential_days(rng, 30)
            elif id(job) in filled:
                tenure = min(_exponential_days(rng, MEAN_TENURE_DAYS) + 1, self.today - job.create)
                end = self.today + rng.randint(1, 30) if rng.random() < ANNOUNCED_DEPARTURE_SHARE else None
                segments.append((self.today - tenure, end))
                occupancy_end = self.today - tenure - 2 - _exponential_days(rng, MEAN_VACANCY_DAYS)
            else:
                days_open = min(_exponential_days(rng, MEAN_VACANCY_DAYS), self.today - job.create)
                if rng.random() < UPCOMING_HIRE_SHARE:
                    segments.append((self.today + rng.randint(7, 45), None))
                else:
                    job.planned_start = self.today + rng.randint(14, 104)
                occupancy_end = self.today - days_open - 1

            while occupancy_end >= job.create:
                start = max(job.create, occupancy_end - 30 - _exponential_days(rng, MEAN_TENURE_DAYS))
                segments.append((start, occupancy_end))
                occupancy_end = start - 2 - _exponential_days(rng, MEAN_VACANCY_DAYS)

            for start, end in reversed(segments):
                person = self._new_person(start)
                occupancy = Occupancy(job=job, person=person, start=start, end=end)
                person.occupancy = occupancy
                self._set_pay(person, job)
                job.occupancies.append(occupancy)

    def _new_person(self, start: int) -> Person:
        rng = self.rng
        seq = len(self.persons)
        if seq < len(SHOWCASE_NAMES):
            first, last = SHOWCASE_NAMES[seq]
        else:
            firsts, lasts = rng.choices(NAME_POOLS, cum_weights=_NAME_POOL_CUM_WEIGHTS)[0]
            first, last = rng.choice(firsts), rng.choice(lasts)
        pref = PREFERRED_NAMES.get(first) if rng.random() < 0.5 else None
        person = Person(id=self.ids.make(start), first=first, last=last, pref=pref, seq=seq)
        self.persons.append(person)
        return person

    def _set_pay(self, person: Person, job: Job) -> None:
        rng = self.rng
        currency = job.location.currency or "USD"
        usd_yearly = max(45_000, 260_000 - 35_000 * job.depth) * rng.uniform(0.8, 1.25)
        yearly = usd_yearly * USD_RATES[currency]
        person.currency = currency
        if job.employment in ("PART", "TEMP", "INTERN"):
            person.interval = "HOURLY"
            person.pay = float(round(yearly / 2080 * 0.6, 0 if currency == "JPY" else 2))
        elif currency in ("MXN", "BRL") and rng.random() < 0.6:
            person.interval = "MONTHLY"
            person.pay = float(round(yearly / 12, -2))
        else:
            person.interval = "YEARLY"
            person.pay = float(round(yearly, -5 if currency == "JPY" else -3))
        person.perf_rating = None if rng.random() < 0.15 else rng.choice((1, 2, 2.5, 3, 3, 3.5, 4, 4, 4.5, 5))
        person.contract_scheme = list(CONTRACT_SCHEMES[job.employment])

    def _make_unplaced_persons(self) -> None:
        """Add people who were never in a job (seen only with includeAll=true)."""
        for _ in range(max(3, self.jobs_today // 200)):
            person = self._new_person(self.today - self.rng.randint(0, 400))
            person.currency = "USD"

    def _finish_persons(self) -> None:
        """Assign employee ids in hire order, then unique work emails and phone numbers."""
        by_hire = sorted(
            self.persons,
            key=lambda person: (person.occupancy.start if person.occupancy else self.today + 1000, person.seq),
        )
        used_emails: dict[str, int] = {}
        domain = f"{self.org_slug}.example.com"
        for number, person in enumerate(by_hire, start=1):
            person.employee = f"{number:06d}"
            local = ".".join(part for part in (_ascii_slug(person.first), _ascii_slug(person.last)) if part)
            local = local or f"employee{person.employee}"
            count = used_emails.get(local, 0)
            used_emails[local] = count + 1
            person.work_email = f"{local}{count + 1 if count else ''}@{domain}"
            person.work_phone = f"+1 555 {number // 10000 % 1000:03d} {number % 10000:04d}"

    def _make_users(self, jobs: list[Job]) -> list[User]:
        """Create USER logins for the CEO and the first VPs, plus the APP user behind the API token."""
        users: list[User] = []
        leaders = [jobs[0], *[job for job in jobs[0].children if job.delete is None]][:6]
        for job in leaders:
            occupancy = job.occupancy_on(self.today)
            if occupancy is None:
                continue
            person = occupancy.person
            users.append(User(
                id=self.ids.make(occupancy.start), first=person.first, last=person.last, email=person.work_email,
                type="USER", access="OWNER" if job.depth == 0 else "PRIMARY", person_id=person.id,
            ))
        users.append(User(
            id=self.ids.make(self.today - 30), first="Emulator Sync", last="App",
            email=f"app-emulator-sync@{self.org_slug}.example.com", type="APP", access="PRIMARY",
            app_id=self.ids.make(self.today - 30),
        ))
        users.sort(key=lambda user: user.id)
        return users


def generate_org(
    jobs_today: int = 2000,
    seed: int = 1,
    today: date | None = None,
    org_id: str | None = None,
    org_slug: str = "acme",
) -> Org:
    """Generate a deterministic org with ``jobs_today`` jobs on ``today`` and about eight years of history."""
    today = today or datetime.now(timezone.utc).date()
    return _OrgBuilder(jobs_today, seed, today, org_id or default_org_id(seed), org_slug).build()
