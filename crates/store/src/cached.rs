//! Statement execution through the connection's prepared-statement cache: the engine runs the
//! same statements on every poll, and compiling SQL was a quarter of the idle daemon's CPU.

use rusqlite::{Connection, Params, Row};

pub(crate) fn execute<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

pub(crate) fn query_row<T, P: Params, F>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: F,
) -> rusqlite::Result<T>
where
    F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
{
    conn.prepare_cached(sql)?.query_row(params, f)
}
