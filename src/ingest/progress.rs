//! Progress of a long file: a bar on a terminal, a log line every few seconds otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    file: String,
    bar: Option<ProgressBar>,
    last_log: Instant,
}

impl Progress {
    /// A bar for `file` among the bars of files read at the same time.
    pub fn new(file: &str, bars: &MultiProgress) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = bars.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar.set_message(file.to_string());
            bar
        });
        Progress {
            file: file.to_string(),
            bar,
            last_log: Instant::now(),
        }
    }

    pub fn update(&mut self, done: u64, total: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None if self.last_log.elapsed() >= LOG_EVERY => {
                self.last_log = Instant::now();
                let percent = if total > 0 { done * 100 / total } else { 100 };
                tracing::info!(file = %self.file, percent, bytes = done, of = total, "reading");
            }
            None => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
