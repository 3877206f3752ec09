//! Runs one command and measures it from outside: wall time, CPU time and peak resident memory
//! (the kernel's `ru_utime + ru_stime` and `ru_maxrss` of the waited process) and bytes it read (`rchar` of `/proc/PID/io`, read while the
//! process is a zombie, so nothing it read is missed). Also the sandbox, started and stopped by
//! process id with an admin token of our own, and its request counters.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error>;

/// One finished command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub wall: f64,
    /// User and system CPU seconds: less sensitive than the wall time to a busy machine.
    pub cpu: f64,
    pub peak_mb: f64,
    pub read_bytes: u64,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end with stdout and stderr in `logs/{label}.out|.err`.
pub fn run(mut command: Command, logs: &Path, label: &str) -> Result<Run, BoxError> {
    std::fs::create_dir_all(logs)?;
    let (out, err) = (
        logs.join(format!("{label}.out")),
        logs.join(format!("{label}.err")),
    );
    command
        .stdin(Stdio::null())
        .stdout(File::create(&out)?)
        .stderr(File::create(&err)?);
    let started = Instant::now();
    let child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    wait_exited(pid)?;
    let wall = started.elapsed().as_secs_f64();
    let read_bytes = read_chars(pid).unwrap_or(0);
    let (code, cpu, peak_kb) = reap(pid)?;
    drop(child);
    Ok(Run {
        code,
        wall,
        cpu,
        peak_mb: peak_kb as f64 / 1024.0,
        read_bytes,
        stdout: std::fs::read_to_string(out)?,
        stderr: std::fs::read_to_string(err)?,
    })
}

/// Waits for `pid` to exit without reaping it.
fn wait_exited(pid: libc::pid_t) -> std::io::Result<()> {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter; `pid` is our own child.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOWAIT;
        // SAFETY: as above.
        let result = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
        if result == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Reaps `pid`; returns its exit code (128 + signal when killed), CPU seconds and peak RSS in KiB.
fn reap(pid: libc::pid_t) -> std::io::Result<(i32, f64, i64)> {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; `pid` is our own exited child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        return Err(std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    Ok((code, cpu, usage.ru_maxrss))
}

fn read_chars(pid: libc::pid_t) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("rchar:"))
        .and_then(|n| n.trim().parse().ok())
}

/// `autopilot-export sandbox` on a free port of 127.0.0.1.
pub struct Sandbox {
    child: Child,
    pub port: u16,
    pub key: String,
    /// What its `/admin` routes require (given through an environment variable, never a flag).
    admin_token: String,
}

/// The variable that hands the sandbox its admin token.
const ADMIN_TOKEN_VARIABLE: &str = "BENCH_SANDBOX_ADMIN_TOKEN";

impl Sandbox {
    /// Starts it at `rate` requests/second (0: no limit) and waits until it answers.
    pub fn start(bin: &Path, rate: f64, log: PathBuf) -> Result<Self, BoxError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let key = format!("bench-{}-{port}", std::process::id());
        let mut random = [0u8; 16];
        File::open("/dev/urandom")?.read_exact(&mut random)?;
        let admin_token: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let child = Command::new(bin)
            .args([
                "sandbox",
                "--port",
                &port.to_string(),
                "--rate",
                &rate.to_string(),
            ])
            .args(["--api-key", &key])
            .args(["--admin-token-env", ADMIN_TOKEN_VARIABLE])
            .env(ADMIN_TOKEN_VARIABLE, &admin_token)
            .stdin(Stdio::null())
            .stdout(File::create(&log)?)
            .stderr(File::create(&log)?)
            .spawn()?;
        let mut sandbox = Sandbox {
            child,
            port,
            key,
            admin_token,
        };
        for _ in 0..300 {
            if sandbox.counters().is_ok() {
                return Ok(sandbox);
            }
            if let Some(status) = sandbox.child.try_wait()? {
                return Err(
                    format!("the sandbox stopped ({status}); see {}", log.display()).into(),
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("the sandbox did not answer in 30 s; see {}", log.display()).into())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// `/admin/counters`.
    pub fn counters(&self) -> Result<serde_json::Value, BoxError> {
        let answer = self.admin("GET /admin/counters", "")?;
        let (head, body) = answer.split_once("\r\n\r\n").ok_or("no body")?;
        if !head.starts_with("HTTP/1.1 200") {
            let status = head.lines().next().unwrap_or_default();
            return Err(format!("the sandbox answered /admin/counters with {status}").into());
        }
        Ok(serde_json::from_str(body)?)
    }

    /// `PUT /admin/refusals`: whether a refused bulk request's answer names the contact at
    /// fault (`none`, `position` or `email`).
    pub fn name_refused(&self, naming: &str) -> Result<(), BoxError> {
        let body = serde_json::json!({ "name_refused": naming }).to_string();
        let answer = self.admin("PUT /admin/refusals", &body)?;
        if answer.starts_with("HTTP/1.1 204") {
            Ok(())
        } else {
            Err(format!("the sandbox refused the refusal naming {naming}").into())
        }
    }

    /// The whole answer to `request_line` (`METHOD /admin/…`) with a JSON `body`, and the token.
    fn admin(&self, request_line: &str, body: &str) -> Result<String, BoxError> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let request = format!(
            "{request_line} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.admin_token,
            body.len()
        );
        stream.write_all(request.as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// The `requests` counter.
    pub fn requests(&self) -> Result<u64, BoxError> {
        self.counters()?["requests"]
            .as_u64()
            .ok_or_else(|| "the sandbox's counters have no request count".into())
    }
}

impl Drop for Sandbox {
    /// Stops it as Ctrl-C would, by its process id, and waits for it.
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid, which `wait` below reaps.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reports_its_exit_code_its_reads_and_its_memory() {
        let logs = std::env::temp_dir().join(format!("bench-measure-{}", std::process::id()));
        let mut command = Command::new("sh");
        command.args(["-c", "echo done; exit 3"]);
        let shell = run(command, &logs, "sh").unwrap();
        assert_eq!((shell.code, shell.stdout.as_str()), (3, "done\n"));
        assert!(shell.peak_mb > 0.0 && shell.cpu >= 0.0);
        let mut command = Command::new("head");
        command.args(["-c", "3000000", "/dev/zero"]);
        let run = run(command, &logs, "head").unwrap();
        assert_eq!(run.code, 0);
        assert!(run.read_bytes >= 3_000_000, "{}", run.read_bytes);
        assert!(run.read_bytes < 4_000_000, "{}", run.read_bytes);
        std::fs::remove_dir_all(&logs).unwrap();
    }
}
