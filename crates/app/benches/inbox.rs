//! Inbox benchmark: the queries the desktop UI runs (`inbox_list`, `conversation_open`) over a
//! large, realistic store.
//!
//!     cargo bench -p textback-app --bench inbox               # 1,000,000 messages / 50,000 conversations
//!     BENCH_QUICK=1 cargo bench -p textback-app --bench inbox # 100,000 messages / 5,000 conversations
//!
//! The database is built once through the store's own migrations (`Store::open`) and then
//! filled with bulk inserts in one transaction (the FTS triggers keep the search index in
//! sync). It is cached as `<target>/bench-data/inbox-s<schema>-g<generator>-<size>.sqlite3`
//! (or under `$TEXTBACK_BENCH_DIR`), so reruns only measure; a new schema version or a change
//! to the generator (bump [`GENERATOR`]) builds a fresh one and removes the stale files.
//!
//! Measured with many iterations through `textback_app::inbox::{list, open}` — exactly what
//! the Tauri commands call: the first page (limit 50, filter all), the next page via its
//! cursor, the first page of each lead filter (needs reply, unbooked, escalated, booked),
//! search (a name, part of a number, common words, a rare word, a miss) and opening a random
//! thread (which also marks it read). Prints p50/p95/max against the targets;
//! `BENCH_ENFORCE=1` makes a missed target exit non-zero.
//!
//! The data is deterministic (fixed seed and clock), so figures are comparable across runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use textback_app::dto::{InboxFilter, InboxQuery};
use textback_app::inbox;
use textback_store::{Store, migrations};

/// Bump when the generated data changes, so cached databases are rebuilt.
const GENERATOR: u32 = 3;

/// "Now" for the generated data: 2026-06-01T00:00:00Z.
const NOW_MS: i64 = 1_780_272_000_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

const MAIN_LINE: &str = "+15125550100";
const SECOND_LINE: &str = "+15125550199";

const TARGET_PAGE_MS: f64 = 20.0;
const TARGET_SEARCH_MS: f64 = 50.0;
const TARGET_OPEN_MS: f64 = 10.0;

/// What the search box is benchmarked with, and why each is interesting.
const SEARCHES: &[(&str, &str)] = &[
    ("Maria", "first name: contacts + text-back bodies"),
    ("Okafor", "last name"),
    ("5551487", "part of a number"),
    ("555", "digits in every number"),
    ("leak", "common word (prefix)"),
    ("water heater", "common phrase"),
    ("sillcock", "rare word"),
    ("qzxv", "no match"),
];

#[derive(Debug, Clone, Copy)]
struct Size {
    label: &'static str,
    conversations: usize,
    messages: usize,
    page_iters: usize,
    search_iters: usize,
    open_iters: usize,
}

const FULL: Size = Size {
    label: "full",
    conversations: 50_000,
    messages: 1_000_000,
    page_iters: 300,
    search_iters: 30,
    open_iters: 500,
};

const QUICK: Size = Size {
    label: "quick",
    conversations: 5_000,
    messages: 100_000,
    page_iters: 100,
    search_iters: 10,
    open_iters: 200,
};

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let enforce = std::env::var("BENCH_ENFORCE").is_ok_and(|v| !v.is_empty() && v != "0");
    let size = if quick { QUICK } else { FULL };
    assert_eq!(size.messages, size.conversations * 20);

    let dir = data_dir();
    let path = dir.join(format!(
        "inbox-s{}-g{GENERATOR}-{}.sqlite3",
        migrations::latest_version(),
        size.label
    ));
    if !path.exists() {
        remove_stale(&dir, &path);
        let started = Instant::now();
        build(&path, size);
        println!(
            "built {} in {:.1} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("using cached {}", path.display());
    }

    // What the desktop app's start waits for before its inbox can paint: the store opened (its
    // integrity check left for later, as the app opens it) and the first page read.
    let opened = Instant::now();
    let store = Store::open_check_later(&path).expect("open the bench database");
    let first_page_query = InboxQuery {
        search: None,
        filter: InboxFilter::All,
        before: None,
        limit: 50,
    };
    let first_page = inbox::list(&store, &first_page_query).expect("first page");
    let to_first_page = opened.elapsed();
    let checked = Instant::now();
    store
        .check_integrity()
        .expect("the bench database is sound");
    println!(
        "start: store open + first inbox page ({} rows) {:.1} ms; the integrity check beside it {:.2} s",
        first_page.items.len(),
        to_first_page.as_secs_f64() * 1e3,
        checked.elapsed().as_secs_f64()
    );
    let counts = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM messages),
                        (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM calls),
                        (SELECT COUNT(*) FROM leads)",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )?)
        })
        .expect("count rows");
    println!(
        "{} conversations, {} messages, {} contacts, {} calls, {} leads ({} MB)",
        counts.0,
        counts.1,
        counts.2,
        counts.3,
        counts.4,
        std::fs::metadata(&path)
            .map(|m| m.len() / 1_000_000)
            .unwrap_or(0)
    );

    let mut rows: Vec<Row> = Vec::new();

    // First page, filter all.
    let first = || inbox::list(&store, &first_page_query).expect("first page");
    let page = first();
    assert_eq!(page.items.len(), 50, "the first page is full");
    let cursor = page.next_cursor.clone().expect("a second page exists");
    rows.push(Row::new(
        "inbox first page (all, 50)",
        measure(size.page_iters, || {
            std::hint::black_box(first());
        }),
        TARGET_PAGE_MS,
    ));

    // Second page via the first page's cursor.
    let second = || {
        inbox::list(
            &store,
            &InboxQuery {
                search: None,
                filter: InboxFilter::All,
                before: Some(cursor.clone()),
                limit: 50,
            },
        )
        .expect("second page")
    };
    let page2 = second();
    assert_eq!(page2.items.len(), 50, "the second page is full");
    assert!(
        page2
            .items
            .iter()
            .all(|s| page.items.iter().all(|f| f.id != s.id)),
        "pages do not overlap"
    );
    rows.push(Row::new(
        "inbox second page (cursor)",
        measure(size.page_iters, || {
            std::hint::black_box(second());
        }),
        TARGET_PAGE_MS,
    ));

    // The lead filters' first pages: open escalations are few, the others many.
    for (filter, name) in [
        (InboxFilter::NeedsReply, "needs reply"),
        (InboxFilter::Unbooked, "unbooked"),
        (InboxFilter::Escalated, "escalated"),
        (InboxFilter::Booked, "booked"),
    ] {
        let page = || {
            inbox::list(
                &store,
                &InboxQuery {
                    search: None,
                    filter,
                    before: None,
                    limit: 50,
                },
            )
            .expect("filtered page")
        };
        let found = page().items.len();
        assert!(found > 0, "the {name} filter finds rows");
        rows.push(Row::new(
            &format!("filter {name} (first page; {found} rows)"),
            measure(size.page_iters, || {
                std::hint::black_box(page());
            }),
            TARGET_PAGE_MS,
        ));
    }

    // Search.
    let mut all_searches = Vec::new();
    for (term, why) in SEARCHES {
        let search = || {
            inbox::list(
                &store,
                &InboxQuery {
                    search: Some((*term).to_owned()),
                    filter: InboxFilter::All,
                    before: None,
                    limit: 50,
                },
            )
            .expect("search")
        };
        let hits = search().items.len();
        let samples = measure(size.search_iters, || {
            std::hint::black_box(search());
        });
        all_searches.extend_from_slice(&samples);
        rows.push(Row::new(
            &format!("search {term:?} ({why}; {hits} rows)"),
            samples,
            TARGET_SEARCH_MS,
        ));
    }
    rows.push(Row::new(
        "search, all terms",
        all_searches,
        TARGET_SEARCH_MS,
    ));

    // Open random threads (marks each read, as the UI does).
    let mut rng = Rng::new(0x5eed_0bed);
    let n = counts.0 as u64;
    let mut opened_items = 0usize;
    let samples = measure(size.open_iters, || {
        let id = 1 + rng.below(n) as i64;
        let thread = inbox::open(&store, id).expect("open thread");
        opened_items += thread.items.len();
    });
    let per_thread = opened_items as f64 / (samples.len() + 3) as f64;
    rows.push(Row::new(
        &format!("open thread (random; ~{per_thread:.0} items)"),
        samples,
        TARGET_OPEN_MS,
    ));

    let missed = print_table(&rows, size);
    if missed > 0 && enforce {
        eprintln!("{missed} target(s) missed (BENCH_ENFORCE=1)");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring and reporting

/// Runs `f` a few times to warm the cache, then `iters` times, timing each call.
fn measure(iters: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..3 {
        f();
    }
    (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

#[derive(Debug)]
struct Row {
    name: String,
    iters: usize,
    p50: f64,
    p95: f64,
    max: f64,
    target_p95: f64,
}

impl Row {
    fn new(name: &str, mut samples: Vec<Duration>, target_p95: f64) -> Self {
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        // Nearest-rank percentile.
        let pct = |p: f64| {
            let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            ms(samples[rank.clamp(1, samples.len()) - 1])
        };
        Self {
            name: name.to_owned(),
            iters: samples.len(),
            p50: pct(50.0),
            p95: pct(95.0),
            max: ms(*samples.last().expect("samples")),
            target_p95,
        }
    }
}

fn print_table(rows: &[Row], size: Size) -> usize {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(5);
    println!();
    println!(
        "inbox benchmark ({}: {} messages in {} conversations) — times in ms",
        size.label, size.messages, size.conversations
    );
    println!(
        "{:<width$}  {:>6}  {:>8}  {:>8}  {:>8}  {:>12}  result",
        "query", "iters", "p50", "p95", "max", "target p95"
    );
    println!("{}", "-".repeat(width + 62));
    let mut missed = 0;
    for r in rows {
        let ok = r.p95 <= r.target_p95;
        if !ok {
            missed += 1;
        }
        println!(
            "{:<width$}  {:>6}  {:>8.2}  {:>8.2}  {:>8.2}  {:>12}  {}",
            r.name,
            r.iters,
            r.p50,
            r.p95,
            r.max,
            format!("<= {:.0}", r.target_p95),
            if ok { "ok" } else { "MISSED" }
        );
    }
    println!();
    if missed == 0 {
        println!("all targets met");
    } else {
        println!("{missed} target(s) missed");
    }
    missed
}

// ---------------------------------------------------------------------------------------------
// Where the database lives

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("TEXTBACK_BENCH_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // target/<profile>/deps/inbox-<hash> → target/bench-data
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.join("bench-data"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("textback-bench-data"));
    std::fs::create_dir_all(&dir).expect("create the bench data directory");
    dir
}

/// Removes cached databases of other schema/generator versions of the same size.
fn remove_stale(dir: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let current = current.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let suffix = current.rsplit('-').next().unwrap_or(current); // "<size>.sqlite3"
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let base = name
            .trim_end_matches("-wal")
            .trim_end_matches("-shm")
            .split(".sqlite3.backup")
            .next()
            .unwrap_or(name);
        if base.starts_with("inbox-s") && base.ends_with(suffix) && base != current {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building the database

/// Small deterministic PRNG (splitmix64): no dependency, same data on every machine.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const AREA_CODES: &[&str] = &[
    "212", "213", "214", "303", "305", "312", "404", "415", "469", "480", "503", "512", "602",
    "612", "617", "646", "702", "713", "720", "737", "773", "818", "832", "904", "919", "972",
];

const FIRST_NAMES: &[&str] = &[
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Jose",
    "Jessica",
    "Carlos",
    "Sarah",
    "Thomas",
    "Karen",
    "Daniel",
    "Nancy",
    "Anthony",
    "Lisa",
    "Mark",
    "Betty",
    "Kevin",
    "Sandra",
    "Brian",
    "Ashley",
    "Luis",
    "Emily",
    "Juan",
    "Michelle",
    "Tyrone",
    "Mei",
    "Priya",
    "Aaliyah",
    "Dmitri",
    "Fatima",
    "Hiroshi",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Nguyen",
    "Kim",
    "Patel",
    "Okafor",
    "Kowalski",
    "O'Brien",
    "Schmidt",
    "Rossi",
    "Chen",
    "Ivanova",
    "Haddad",
];

const PROBLEMS: &[&str] = &[
    "my water heater is leaking from the bottom",
    "the kitchen sink is backed up again",
    "our furnace won't turn on",
    "the AC is blowing warm air",
    "there's water coming through the basement ceiling",
    "the toilet keeps running all night",
    "we have no hot water since this morning",
    "the thermostat screen is blank",
    "the garbage disposal is jammed",
    "there's a sewer smell in the downstairs bathroom",
    "the heat pump is making a grinding noise",
    "a pipe burst under the bathroom vanity",
    "we have really low water pressure in the shower",
    "the condensate line is dripping by the air handler",
    "the boiler pilot light keeps going out",
    "the sump pump isn't kicking on",
    "we have a frozen pipe in the garage",
    "the outdoor AC unit is iced over",
    "the dishwasher drain is clogged",
    "the radiator bangs when the heat comes on",
    "the tankless water heater shows error code 11",
    "the shower valve is dripping nonstop",
    "the furnace filter light is flashing",
    "there's a slow leak under the fridge water line",
];

const ASKS: &[&str] = &[
    "Can someone come out today?",
    "How soon can you get here?",
    "What do you charge for a service call?",
    "Is tomorrow morning possible?",
    "Do you work weekends?",
    "Please call me back when you can.",
    "Thanks!",
    "It's getting worse.",
    "Renting, so I need a receipt for my landlord.",
];

const REPLIES: &[&str] = &[
    "Yes that works",
    "Ok thanks",
    "See you then",
    "Can you do after 3?",
    "How much will it be roughly?",
    "Tech just left, all fixed. Thank you!",
    "Running 10 min late, door is unlocked",
    "Is that price including parts?",
    "Perfect, thanks so much",
    "Can we push to Thursday?",
    "The leak stopped for now but I still want someone to look",
    "I sent the photo, let me know",
    "Who is coming out?",
    "Great service as always",
];

const PARTS: &[&str] = &[
    "water heater",
    "shutoff valve",
    "anode rod",
    "blower motor",
    "capacitor",
    "flapper",
    "P-trap",
    "expansion tank",
    "igniter",
    "flue pipe",
    "wax ring",
    "pressure relief valve",
];

const TECHS: &[&str] = &["Mike", "Dana", "Luis", "Priya", "Sam"];
const STREETS: &[&str] = &[
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Elm Dr",
    "Lakeview Rd",
    "Pine Ct",
    "Main St",
    "Hillcrest Blvd",
];
const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn inbound_body(rng: &mut Rng, first: bool) -> String {
    let mut body = if first || rng.chance(0.25) {
        let problem = rng.pick(PROBLEMS);
        let ask = rng.pick(ASKS);
        match rng.below(3) {
            0 => format!("Hi, {problem}. {ask}"),
            1 => format!("Hello {problem}, {ask}"),
            _ => format!("{}{}. {ask}", problem[..1].to_uppercase(), &problem[1..]),
        }
    } else {
        match rng.below(8) {
            0 => format!("Address is {} {}", rng.range(10, 9999), rng.pick(STREETS)),
            1 => format!("Gate code is {}", rng.range(1000, 9999)),
            _ => rng.pick(REPLIES).to_owned(),
        }
    };
    if rng.chance(1.0 / 20_000.0) {
        body.push_str(" Also the sillcock out back is dripping.");
    }
    body
}

fn outbound_body(rng: &mut Rng) -> String {
    let mut body = match rng.below(10) {
        0 => {
            let start = rng.range(8, 15);
            format!(
                "We can have a tech there between {start} and {}.",
                start + 2
            )
        }
        1 => format!(
            "{} is on the way, about {} minutes out.",
            rng.pick(TECHS),
            rng.range(10, 45)
        ),
        2 => "Service call is $89, waived if you go ahead with the repair.".to_owned(),
        3 => format!(
            "Your appointment is confirmed for {} at {}:00.",
            rng.pick(DAYS),
            rng.range(8, 16)
        ),
        4 => "Thanks for choosing Acme Plumbing & Heating!".to_owned(),
        5 => format!("Can you send a photo of the {}?", rng.pick(PARTS)),
        6 => "Please shut off the main water valve until we arrive.".to_owned(),
        7 => format!(
            "The replacement {} is in, we can install it {}.",
            rng.pick(PARTS),
            rng.pick(DAYS)
        ),
        8 => format!(
            "Invoice #{} has been sent to your email.",
            rng.range(10_000, 99_999)
        ),
        _ => format!(
            "Just checking in: is the {} working OK now?",
            rng.pick(PARTS)
        ),
    };
    if rng.chance(1.0 / 20_000.0) {
        body.push_str(" We'll check the sillcock too.");
    }
    body
}

fn text_back_body(first_name: Option<&str>) -> String {
    format!(
        "Hi {}, sorry we missed your call at Acme Plumbing & Heating! Book here: https://acme.example/book or just reply to this text.",
        first_name.unwrap_or("there")
    )
}

struct Msg {
    at: i64,
    conversation: i64,
    inbound: bool,
    automatic: bool,
    body: String,
}

struct Call {
    conversation: i64,
    contact: i64,
    at: i64,
    missed: bool,
    texted: bool,
    /// The lead this call opened.
    lead: Option<i64>,
}

fn build(path: &Path, size: Size) {
    let tmp = path.with_extension(format!("building-{}", std::process::id()));
    for p in [&tmp, &wal(&tmp, "-wal"), &wal(&tmp, "-shm")] {
        let _ = std::fs::remove_file(p);
    }
    println!(
        "building the bench database ({} messages in {} conversations); cached for later runs ...",
        size.messages, size.conversations
    );
    // The schema comes from the store's own migrations.
    drop(Store::open(&tmp).expect("create the schema"));

    let mut conn = Connection::open(&tmp).expect("open for bulk load");
    conn.pragma_update(None, "journal_mode", "OFF").unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    conn.pragma_update(None, "cache_size", -512_000).unwrap();
    conn.pragma_update(None, "temp_store", "MEMORY").unwrap();

    let mut rng = Rng::new(0x7e47_bac4);
    let n = size.conversations;
    let mut msgs: Vec<Msg> = Vec::with_capacity(size.messages);
    let mut calls: Vec<Call> = Vec::new();
    let tx = conn.transaction().unwrap();
    {
        let mut contact = tx
            .prepare(
                "INSERT INTO contacts (id, phone, name, opted_out_at, opt_out_source, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut conversation = tx
            .prepare(
                "INSERT INTO conversations (id, business_number, contact_id, last_activity_at,
                     snippet, unread, done, assigned_to, awaiting_reply)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .unwrap();
        let mut lead = tx
            .prepare(
                "INSERT INTO leads (conversation_id, state, first_call_id, opened_at, closed_at,
                     job_value_cents, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .unwrap();
        let mut note = tx
            .prepare(
                "INSERT INTO notes (conversation_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .unwrap();

        let mut delta = 0i64;
        for i in 0..n {
            let id = i as i64 + 1;
            // Exactly 20 messages per conversation on average: pairs of 20 ± d.
            let count = if i % 2 == 0 {
                delta = rng.range(-16, 16);
                20 + delta
            } else {
                20 - delta
            } as usize;

            // Unique per area code (7919 is coprime with 10,000); each area its own order.
            let area_index = i % AREA_CODES.len();
            let area = AREA_CODES[area_index];
            let suffix = ((i / AREA_CODES.len()) * 7919 + area_index * 3571 + 13) % 10_000;
            let phone = format!("+1{area}555{suffix:04}");
            let first = rng.chance(0.65).then(|| rng.pick(FIRST_NAMES));
            let name = first.map(|f| format!("{f} {}", rng.pick(LAST_NAMES)));
            let start = NOW_MS - rng.range(HOUR, 730 * DAY);
            let opted_out = rng.chance(0.01);
            let business = if rng.chance(0.85) {
                MAIN_LINE
            } else {
                SECOND_LINE
            };

            // A third of conversations start with a missed call and a text-back.
            let missed_call = rng.chance(0.35);
            let mut at = start;
            let mut thread: Vec<Msg> = Vec::with_capacity(count);
            if missed_call {
                calls.push(Call {
                    conversation: id,
                    contact: id,
                    at,
                    missed: true,
                    texted: true,
                    lead: None,
                });
                at += rng.range(5_000, 30_000);
                thread.push(Msg {
                    at,
                    conversation: id,
                    inbound: false,
                    automatic: true,
                    body: text_back_body(first),
                });
            }
            let mut inbound = true;
            while thread.len() < count {
                // Mostly minutes to hours apart; sometimes the customer comes back weeks later.
                at += if rng.chance(0.08) {
                    rng.range(7 * DAY, 120 * DAY)
                } else {
                    rng.range(MINUTE, 6 * HOUR)
                };
                if rng.chance(0.02) {
                    calls.push(Call {
                        conversation: id,
                        contact: id,
                        at,
                        missed: rng.chance(0.5),
                        texted: false,
                        lead: None,
                    });
                }
                let body = if inbound {
                    inbound_body(&mut rng, thread.iter().all(|m| !m.inbound))
                } else {
                    outbound_body(&mut rng)
                };
                thread.push(Msg {
                    at: at.min(NOW_MS - MINUTE),
                    conversation: id,
                    inbound,
                    automatic: false,
                    body,
                });
                inbound = if rng.chance(0.3) { inbound } else { !inbound };
            }
            let last = thread.last().expect("at least one message");
            let last_at = last.at;
            let recent = NOW_MS - last_at < 7 * DAY;
            let unread = if last.inbound && (recent || rng.chance(0.03)) {
                rng.range(1, 3)
            } else {
                0
            };
            let done = unread == 0 && rng.chance(if recent { 0.1 } else { 0.6 });
            let snippet: String = last.body.chars().take(140).collect();
            let assigned = rng.chance(0.2).then(|| rng.pick(TECHS));

            contact
                .execute(params![
                    id,
                    phone,
                    name,
                    opted_out.then_some(last_at),
                    opted_out.then_some("keyword"),
                    start
                ])
                .unwrap();
            conversation
                .execute(params![
                    id,
                    business,
                    id,
                    last_at,
                    snippet,
                    unread,
                    done,
                    assigned,
                    last.inbound
                ])
                .unwrap();
            if missed_call {
                // Some callers had an earlier, closed lead.
                if rng.chance(0.2) {
                    lead.execute(params![
                        id,
                        "lost",
                        Option::<i64>::None,
                        start - 60 * DAY,
                        start - 50 * DAY,
                        Option::<i64>::None,
                        start - 50 * DAY
                    ])
                    .unwrap();
                }
                let state = match rng.below(20) {
                    0..=3 => "texted",
                    4..=9 => "replied",
                    10..=15 => "booked",
                    16..=18 => "lost",
                    _ => "opted_out",
                };
                let closed = matches!(state, "lost" | "opted_out" | "booked").then_some(last_at);
                let value = (state == "booked").then(|| rng.range(9_000, 450_000));
                // first_call_id is filled in once the calls have ids (below).
                lead.execute(params![
                    id,
                    state,
                    Option::<i64>::None,
                    start,
                    closed,
                    value,
                    last_at
                ])
                .unwrap();
                let first_call = calls
                    .iter_mut()
                    .rev()
                    .find(|c| c.conversation == id && c.texted)
                    .expect("the text-back call");
                first_call.lead = Some(tx.last_insert_rowid());
            }
            if rng.chance(0.02) {
                note.execute(params![
                    id,
                    rng.pick(TECHS),
                    "Customer prefers texts, dog in the backyard.",
                    last_at
                ])
                .unwrap();
            }
            msgs.extend(thread);
        }

        // Calls (with their decisions), in time order as sync would insert them.
        calls.sort_by_key(|c| c.at);
        let mut call = tx
            .prepare(
                "INSERT INTO calls (id, provider, provider_call_id, business_number, caller_raw,
                     contact_id, conversation_id, direction, status, started_at, ended_at,
                     duration_secs, outcome, outcome_reason, first_seen_at, updated_at)
                 SELECT ?1, 'twilio', ?2, c.business_number, k.phone, ?3, ?4, 'inbound', ?5,
                        ?6, ?7, ?8, ?9, ?10, ?7, ?7
                 FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = ?4",
            )
            .unwrap();
        let mut decision = tx
            .prepare(
                "INSERT INTO decisions (call_id, action, code, reason, decided_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap();
        for (i, c) in calls.iter().enumerate() {
            let id = i as i64 + 1;
            let ring = rng.range(15, 30);
            let (status, outcome, reason, duration) = if c.missed {
                ("no-answer", "no_answer", "Nobody picked up (rang 25 s)", 0)
            } else {
                (
                    "completed",
                    "answered",
                    "Answered by +15125550111",
                    rng.range(30, 600),
                )
            };
            call.execute(params![
                id,
                format!("CA{:032x}", rng.next() as u128 * 31 + id as u128),
                c.contact,
                c.conversation,
                status,
                c.at - ring * 1000,
                c.at,
                duration,
                outcome,
                reason
            ])
            .unwrap();
            let (action, code, why) = if c.texted {
                (
                    "send",
                    "send",
                    "A missed call from a textable number, not texted recently",
                )
            } else if c.missed {
                (
                    "skip",
                    "already_texted",
                    "Already texted this caller within 24h",
                )
            } else {
                ("skip", "answered", "The call was answered")
            };
            decision
                .execute(params![id, action, code, why, c.at + 1_000])
                .unwrap();
        }
        let mut first_call = tx
            .prepare("UPDATE leads SET first_call_id = ?1 WHERE id = ?2")
            .unwrap();
        for (i, c) in calls.iter().enumerate() {
            if let Some(lead_id) = c.lead {
                first_call.execute(params![i as i64 + 1, lead_id]).unwrap();
            }
        }

        // Messages in global time order, as sync inserts them (the FTS triggers index each).
        msgs.sort_by_key(|m| (m.at, m.conversation));
        let mut message = tx
            .prepare(
                "INSERT INTO messages (provider, provider_message_id, conversation_id, direction,
                     body, status, automatic, created_at, updated_at)
                 VALUES ('twilio', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )
            .unwrap();
        for (i, m) in msgs.iter().enumerate() {
            message
                .execute(params![
                    format!("{}{:032x}", if m.inbound { "SM" } else { "MM" }, i),
                    m.conversation,
                    if m.inbound { "inbound" } else { "outbound" },
                    m.body,
                    if m.inbound { "received" } else { "delivered" },
                    m.automatic,
                    m.at
                ])
                .unwrap();
        }
    }
    // Escalations: every 20th lead that got a reply; those still open are the escalated
    // filter's rows (about one conversation in 400), the booked ones were taken.
    tx.execute_batch(
        "INSERT INTO escalations (lead_id, conversation_id, reasons, opened_at, pages, acked_at,
             acked_by, updated_at)
         SELECT id, conversation_id, 'replied 9 min ago and nobody has answered', updated_at, 1,
                CASE WHEN closed_at IS NULL THEN NULL ELSE updated_at END,
                CASE WHEN closed_at IS NULL THEN NULL ELSE 'Dee' END, updated_at
         FROM leads WHERE state IN ('replied', 'booked') AND id % 20 = 0;
         UPDATE leads SET escalated = 1 WHERE id IN (SELECT lead_id FROM escalations);",
    )
    .unwrap();
    tx.commit().unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    drop(conn);
    std::fs::rename(&tmp, path).expect("move the built database into place");
}

fn wal(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
