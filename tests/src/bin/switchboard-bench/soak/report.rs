//! What the soak prints and draws: a row a sample, the verdicts after warm-up against
//! the stated bounds, and the series as an SVG.

/// What "flat" means after warm-up: the most the resident memory may grow (as a share
/// of its size when warm-up ended), the most open descriptors may vary, the longest the
/// relay may lag, and how far the database's growth per ticket may drift between the
/// run's two halves.
const BOUNDS: Bounds = Bounds {
    rss_growth: 0.10,
    fd_spread: 64.0,
    relay_lag_seconds: 1.0,
    bytes_per_ticket_drift: 0.35,
};

struct Bounds {
    rss_growth: f64,
    fd_spread: f64,
    relay_lag_seconds: f64,
    bytes_per_ticket_drift: f64,
}

/// One row of the table.
#[derive(Clone, Copy, Default)]
pub struct Sample {
    pub minute: f64,
    pub rss_mib: f64,
    pub fds: f64,
    pub db_mib: f64,
    pub pool_in_use: f64,
    pub relay_lag_s: f64,
    pub relay_backlog: f64,
    pub sockets: f64,
    pub requests_per_s: f64,
    pub failures: u64,
    pub tickets: u64,
    pub webhooks: u64,
    pub mails: u64,
    pub sla_alerts: u64,
}

pub fn print_header() {
    println!(
        "{:>6} {:>8} {:>6} {:>8} {:>6} {:>8} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>7} {:>7}",
        "min",
        "RSS MiB",
        "fds",
        "DB MiB",
        "pool",
        "lag s",
        "backlog",
        "sockets",
        "req/s",
        "failed",
        "tickets",
        "webhooks",
        "mails",
        "SLA"
    );
}

pub fn print_row(s: &Sample) {
    println!(
        "{:>6.1} {:>8.1} {:>6.0} {:>8.1} {:>6.0} {:>8.3} {:>8.0} {:>7.0} {:>8.1} {:>7} {:>8} {:>8} {:>7} {:>7}",
        s.minute,
        s.rss_mib,
        s.fds,
        s.db_mib,
        s.pool_in_use,
        s.relay_lag_s,
        s.relay_backlog,
        s.sockets,
        s.requests_per_s,
        s.failures,
        s.tickets,
        s.webhooks,
        s.mails,
        s.sla_alerts
    );
}

/// Prints each bound after warm-up and whether it held.
pub fn judge(samples: &[Sample]) {
    if samples.len() < 3 {
        println!("too few samples to judge: run longer or sample more often");
        return;
    }
    let warm = (samples.len() / 5).max(1);
    let after = &samples[warm..];
    let max = |f: fn(&Sample) -> f64| after.iter().map(f).fold(f64::MIN, f64::max);
    let min = |f: fn(&Sample) -> f64| after.iter().map(f).fold(f64::MAX, f64::min);
    let verdict = |held: bool| if held { "held" } else { "NOT HELD" };

    let rss_start = samples[warm - 1].rss_mib;
    let rss_growth = (max(|s| s.rss_mib) - rss_start) / rss_start;
    println!(
        "after warm-up (from minute {:.1}):\n  resident memory {:.1} → at most {:.1} MiB, growth {:.1}% (bound {:.0}%): {}",
        samples[warm - 1].minute,
        rss_start,
        max(|s| s.rss_mib),
        100.0 * rss_growth,
        100.0 * BOUNDS.rss_growth,
        verdict(rss_growth <= BOUNDS.rss_growth)
    );
    let fd_spread = max(|s| s.fds) - min(|s| s.fds);
    println!(
        "  open descriptors {:.0} to {:.0}, spread {:.0} (bound {:.0}, the subscribers' sockets coming and going): {}",
        min(|s| s.fds),
        max(|s| s.fds),
        fd_spread,
        BOUNDS.fd_spread,
        verdict(fd_spread <= BOUNDS.fd_spread)
    );
    let lag = max(|s| s.relay_lag_s);
    println!(
        "  relay lag at most {:.3} s, backlog at most {:.0} (bound {:.1} s): {}",
        lag,
        max(|s| s.relay_backlog),
        BOUNDS.relay_lag_seconds,
        verdict(lag <= BOUNDS.relay_lag_seconds)
    );
    println!(
        "  pool connections in use at most {:.0}",
        max(|s| s.pool_in_use)
    );
    // Growth per ticket written, first half of the run after warm-up against the second.
    let middle = warm + after.len() / 2;
    let per_ticket = |from: &Sample, to: &Sample| {
        (to.db_mib - from.db_mib) * 1024.0 * 1024.0 / (to.tickets - from.tickets).max(1) as f64
    };
    let first = per_ticket(&samples[warm - 1], &samples[middle]);
    let second = per_ticket(&samples[middle], samples.last().unwrap());
    let drift = (second - first).abs() / first.abs().max(1.0);
    println!(
        "  database growth {:.0} then {:.0} bytes a ticket written (with its comments, events, mails and clocks), drift {:.0}% (bound {:.0}%): {}",
        first,
        second,
        100.0 * drift,
        100.0 * BOUNDS.bytes_per_ticket_drift,
        verdict(drift <= BOUNDS.bytes_per_ticket_drift)
    );
}

/// A panel's title and what it reads off each sample.
type Series = (&'static str, fn(&Sample) -> f64);

/// Four panels over the run's minutes: memory, descriptors, database, relay lag.
pub fn draw(samples: &[Sample], backend: &str, path: &std::path::Path) {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (960, 640)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let root = root
        .titled(
            &format!("Soak on {backend}: what the server holds, minute by minute"),
            ("sans-serif", 20),
        )
        .unwrap();
    let panels = root.split_evenly((2, 2));
    let series: [Series; 4] = [
        ("resident memory (MiB)", |s| s.rss_mib),
        ("open file descriptors", |s| s.fds),
        ("database on disk (MiB)", |s| s.db_mib),
        ("relay lag (s)", |s| s.relay_lag_s),
    ];
    let end = samples.last().map_or(1.0, |s| s.minute);
    for (panel, (name, value)) in panels.iter().zip(series) {
        let top = samples
            .iter()
            .map(value)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(name, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..end, 0.0..(top * 1.2).max(0.001))
            .unwrap();
        chart
            .configure_mesh()
            .x_desc("minutes")
            .light_line_style(WHITE)
            .draw()
            .unwrap();
        chart
            .draw_series(std::iter::once(PathElement::new(
                samples
                    .iter()
                    .map(|s| (s.minute, value(s)))
                    .filter(|(_, v)| v.is_finite())
                    .collect::<Vec<_>>(),
                BLUE,
            )))
            .unwrap();
    }
    root.present().unwrap();
}
