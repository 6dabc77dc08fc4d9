//! Streamed rows written on a second thread: a [`Relay`] is the run's sink, keeping each row
//! as a few plain numbers and handing them over in batches to a thread that formats and
//! writes them through the replication's [`CsvSink`]. A single replication then simulates
//! on one core while its files are written on the other; the files are the same bytes, in
//! the same order, as the sink would write in place.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use super::csv::CsvSink;
use crate::platform::{BucketRow, InstanceRow, Outcome, RequestRow, Sink};
use crate::units::Micros;
use crate::usage::{PhaseTimes, Spec};

/// Rows per batch: a few hundred kilobytes in flight, one hand-over per batch.
const BATCH: usize = 4096;
/// Batches the writer may fall behind by before the simulation waits for it.
const IN_FLIGHT: usize = 4;

/// A row as the relay keeps it: the function by index (its name is the scenario's).
enum Row {
    Bucket(Box<BucketRow>),
    Instance(Box<Instance>),
    Request(Request),
}

struct Instance {
    id: u64,
    function_index: usize,
    host: u32,
    reserved: bool,
    created: Micros,
    pull_start: Option<Micros>,
    pull_end: Option<Micros>,
    ready: Option<Micros>,
    ended: Option<Micros>,
    end_reason: &'static str,
    served: u64,
    times: PhaseTimes,
    spec: Spec,
}

struct Request {
    function_index: u32,
    cold: bool,
    outcome: Outcome,
    arrival: Micros,
    start: Option<Micros>,
    end: Option<Micros>,
    instance: Option<u64>,
}

/// The sink a run writes into when its files are written on another thread.
pub struct Relay {
    batch: Vec<Row>,
    full: SyncSender<Vec<Row>>,
    /// Batches the writer has emptied, to be filled again (no allocation once warm).
    empty: Receiver<Vec<Row>>,
    wants_requests: bool,
}

impl Relay {
    fn push(&mut self, row: Row) {
        self.batch.push(row);
        if self.batch.len() == BATCH {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        let next = self.empty.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        // a writer that is gone has failed; its error is reported when it is joined
        let _ = self.full.send(full);
    }
}

impl Sink for Relay {
    fn bucket(&mut self, row: &BucketRow) {
        self.push(Row::Bucket(Box::new(row.clone())));
    }

    fn instance(&mut self, r: &InstanceRow<'_>) {
        self.push(Row::Instance(Box::new(Instance {
            id: r.id,
            function_index: r.function_index,
            host: r.host,
            reserved: r.reserved,
            created: r.created,
            pull_start: r.pull_start,
            pull_end: r.pull_end,
            ready: r.ready,
            ended: r.ended,
            end_reason: r.end_reason,
            served: r.served,
            times: r.times,
            spec: r.spec,
        })));
    }

    fn request(&mut self, r: &RequestRow<'_>) {
        self.push(Row::Request(Request {
            function_index: r.function_index as u32,
            cold: r.cold,
            outcome: r.outcome,
            arrival: r.arrival,
            start: r.start,
            end: r.end,
            instance: r.instance,
        }));
    }

    fn wants_requests(&self) -> bool {
        self.wants_requests
    }
}

/// Run `body` with a [`Relay`] as its sink while another thread writes the rows through
/// `sink`; then the sink, every row written (or its first error kept, as always).
/// `names` are the scenario's function names, by index.
pub fn relayed<'a, R>(sink: CsvSink<'a>, names: &[String], body: impl FnOnce(&mut Relay) -> R) -> (R, CsvSink<'a>) {
    let wants_requests = sink.wants_requests();
    std::thread::scope(|s| {
        let (full_tx, full_rx) = mpsc::sync_channel(IN_FLIGHT);
        let (empty_tx, empty_rx) = mpsc::channel();
        let writer = s.spawn(move || write_rows(sink, names, full_rx, empty_tx));
        let mut relay = Relay { batch: Vec::with_capacity(BATCH), full: full_tx, empty: empty_rx, wants_requests };
        let out = body(&mut relay);
        if !relay.batch.is_empty() {
            relay.hand_over();
        }
        drop(relay); // closes the channel: the writer finishes its last batch and returns
        let sink = writer.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (out, sink)
    })
}

fn write_rows<'a>(
    mut sink: CsvSink<'a>,
    names: &[String],
    full: Receiver<Vec<Row>>,
    empty: Sender<Vec<Row>>,
) -> CsvSink<'a> {
    for mut batch in full {
        for row in batch.drain(..) {
            match row {
                Row::Bucket(b) => sink.bucket(&b),
                Row::Instance(i) => sink.instance(&InstanceRow {
                    id: i.id,
                    function: &names[i.function_index],
                    function_index: i.function_index,
                    host: i.host,
                    reserved: i.reserved,
                    created: i.created,
                    pull_start: i.pull_start,
                    pull_end: i.pull_end,
                    ready: i.ready,
                    ended: i.ended,
                    end_reason: i.end_reason,
                    served: i.served,
                    times: i.times,
                    spec: i.spec,
                }),
                Row::Request(r) => sink.request(&RequestRow {
                    function: &names[r.function_index as usize],
                    function_index: r.function_index as usize,
                    arrival: r.arrival,
                    start: r.start,
                    end: r.end,
                    cold: r.cold,
                    instance: r.instance,
                    outcome: r.outcome,
                }),
            }
        }
        let _ = empty.send(batch);
    }
    sink
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::BufWriter;
    use std::path::Path;

    use super::*;
    use crate::report::csv::Pricing;
    use crate::scenario::Function;

    /// The same run written in place and through the relay: the same bytes in every file,
    /// the same chart data.
    #[test]
    fn relayed_rows_are_the_bytes_written_in_place() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
        let sc = crate::scenario::load(&path, &["simulation.horizon=3h".to_string()]).unwrap();
        let sheet = &sc.platform.sheet;
        let meters = crate::billing::meters(sheet);
        let pricing = Pricing {
            sheet,
            specs: sc.functions.iter().map(Function::spec).collect(),
            image_mb: vec![100.0; sc.functions.len()],
        };
        let names: Vec<String> = sc.functions.iter().map(|f| f.name.clone()).collect();
        let dir = tempfile::tempdir().unwrap();
        let open = |n: String| BufWriter::new(File::create(dir.path().join(n)).unwrap());
        let sink = |tag: &str| {
            let files = ["timeseries", "instances", "requests"].map(|f| open(format!("{f}.{tag}")));
            let [ts, ins, rq] = files;
            CsvSink::new(1, Some(&pricing), ts, ins, Some(rq)).with_trend()
        };
        let mut in_place = sink("a");
        let a = crate::platform::simulate(&sc, 0, &mut in_place, &meters, |_| {}).unwrap();
        let trend_a = in_place.finish().unwrap();
        let (b, relayed_sink) =
            relayed(sink("b"), &names, |out| crate::platform::simulate(&sc, 0, out, &meters, |_| {}).unwrap());
        let trend_b = relayed_sink.finish().unwrap();
        assert_eq!(a.events, b.events);
        assert!(a.functions[0].1.requests > 3 * BATCH as u64, "several batches handed over");
        for f in ["timeseries", "instances", "requests"] {
            let read = |tag: &str| std::fs::read(dir.path().join(format!("{f}.{tag}"))).unwrap();
            let (x, y) = (read("a"), read("b"));
            assert!(!x.is_empty() && x == y, "{f}: {} bytes in place, {} relayed", x.len(), y.len());
        }
        assert!(trend_a.is_some() && format!("{trend_a:?}") == format!("{trend_b:?}"));
    }
}
