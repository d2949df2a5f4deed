//! [`ProgressBar`]: a small progress display for training loops, written to
//! stderr (a redrawn bar on a terminal, plain lines otherwise).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A progress bar: label, `current/total`, elapsed time, rate and a
/// postfix such as `loss=0.123 acc=97.1%`.
///
/// On a terminal the bar is redrawn in place (at most every 100 ms, and
/// always at the end); when stderr is not a terminal (a log file, CI) it
/// prints a plain line at every 10% and at the end. [`ProgressBar::render`]
/// gives the text without printing it.
///
/// ```
/// use frankentorch::utils::progress::ProgressBar;
/// let mut bar = ProgressBar::new("epoch 1", 4);
/// bar.set_postfix("loss=0.500");
/// bar.update(2);
/// let line = bar.render();
/// assert!(line.starts_with("epoch 1"));
/// assert!(line.contains("2/4"));
/// assert!(line.contains("loss=0.500"));
/// bar.finish();
/// ```
#[derive(Debug)]
pub struct ProgressBar {
    label: String,
    total: usize,
    current: usize,
    postfix: String,
    start: Instant,
    last_draw: Option<Instant>,
    last_plain_decile: Option<usize>,
    terminal: bool,
    width: usize,
    finished: bool,
}

impl ProgressBar {
    /// A bar for `total` steps, labelled `label`, starting now.
    pub fn new(label: impl Into<String>, total: usize) -> ProgressBar {
        ProgressBar {
            label: label.into(),
            total,
            current: 0,
            postfix: String::new(),
            start: Instant::now(),
            last_draw: None,
            last_plain_decile: None,
            terminal: std::io::stderr().is_terminal(),
            width: 24,
            finished: false,
        }
    }

    /// Advances by `n` steps and redraws when due.
    pub fn update(&mut self, n: usize) {
        self.current += n;
        self.draw(false);
    }

    /// Sets the text shown after the counters (`loss=0.123 acc=97.1%`).
    pub fn set_postfix(&mut self, postfix: impl Into<String>) {
        self.postfix = postfix.into();
    }

    /// Steps done so far.
    pub fn position(&self) -> usize {
        self.current
    }

    /// The current line: label, bar (on a terminal), `current/total`,
    /// elapsed time, rate in steps per second, postfix.
    pub fn render(&self) -> String {
        self.render_at(self.start.elapsed())
    }

    fn render_at(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { self.current as f64 / secs } else { 0.0 };
        let mut line = self.label.clone();
        if self.terminal {
            let frac = if self.total == 0 {
                1.0
            } else {
                (self.current as f64 / self.total as f64).min(1.0)
            };
            let filled = (frac * self.width as f64).round() as usize;
            line.push_str(&format!(
                " [{}{}] {:3.0}%",
                "#".repeat(filled),
                " ".repeat(self.width - filled),
                frac * 100.0
            ));
        }
        line.push_str(&format!(
            " {}/{} [{} {:.1} it/s]",
            self.current,
            self.total,
            format_duration(elapsed),
            rate
        ));
        if !self.postfix.is_empty() {
            line.push(' ');
            line.push_str(&self.postfix);
        }
        line
    }

    fn draw(&mut self, last: bool) {
        let now = Instant::now();
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let recent = matches!(self.last_draw, Some(t) if now.duration_since(t) < Duration::from_millis(100));
            if !recent || last {
                self.last_draw = Some(now);
                let _ = write!(err, "\r\x1b[2K{}", self.render());
                if last {
                    let _ = writeln!(err);
                }
                let _ = err.flush();
            }
            return;
        }
        let decile = (self.current * 10).checked_div(self.total).unwrap_or(10);
        if last || !matches!(self.last_plain_decile, Some(d) if decile <= d) {
            self.last_plain_decile = Some(decile);
            let _ = writeln!(err, "{}", self.render());
        }
    }

    /// Draws the final state and ends the line (also done on drop).
    pub fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.draw(true);
        }
    }
}

impl Drop for ProgressBar {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `mm:ss`, or `h:mm:ss` past an hour.
fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_render_has_every_field() {
        let mut bar = ProgressBar::new("train", 10);
        bar.terminal = false;
        bar.current = 5;
        bar.set_postfix("loss=0.123 acc=97.1%");
        let line = bar.render_at(Duration::from_secs(2));
        assert_eq!(line, "train 5/10 [00:02 2.5 it/s] loss=0.123 acc=97.1%");
        bar.finished = true;
    }

    #[test]
    fn terminal_render_draws_a_bar() {
        let mut bar = ProgressBar::new("t", 4);
        bar.terminal = true;
        bar.current = 1;
        let line = bar.render_at(Duration::from_secs(3725));
        assert_eq!(
            line,
            format!("t [{}{}]  25% 1/4 [1:02:05 0.0 it/s]", "#".repeat(6), " ".repeat(18))
        );
        bar.finished = true;
    }
}
