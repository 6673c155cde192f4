//! PostgreSQL clusters of `scripts/pg-cluster.sh` that a test makes for itself
//! (a primary that archives, a restored backup, a hot standby), stopped when
//! dropped; and the server's programs (`pg_basebackup`), run as the clusters' owner.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::postgres::cluster_script as script;

/// A cluster, stopped when dropped.
pub struct Cluster {
    dir: PathBuf,
    /// Its URL (the `postgres` database).
    pub url: String,
}

impl Cluster {
    /// `scripts/pg-cluster.sh CMD ARGS…`; the cluster's directory is the last argument.
    pub fn new(cmd: &str, args: &[&dyn AsRef<OsStr>]) -> Cluster {
        let dir = PathBuf::from(args.last().expect("a directory").as_ref());
        Self::launched(dir, Command::new(script()).arg(cmd).args(args.iter().map(|a| a.as_ref())))
    }

    /// `scripts/pg-cluster.sh start DIR SETTINGS…`.
    pub fn start(dir: &Path, settings: &[&str]) -> Cluster {
        Self::launched(dir.to_path_buf(), Command::new(script()).arg("start").arg(dir).args(settings))
    }

    /// The cluster in `dir` that `cmd` starts, with the URL it prints.
    fn launched(dir: PathBuf, cmd: &mut Command) -> Cluster {
        let out = cmd.output().expect("pg-cluster.sh");
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        Cluster { dir, url: String::from_utf8_lossy(&out.stdout).trim().to_string() }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.split('/').next()).and_then(|p| p.parse().ok()).expect("a port in the URL")
    }

    /// Its postmaster's PID.
    pub fn pid(&self) -> u32 {
        let pidfile = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).expect("postmaster.pid");
        pidfile.lines().next().and_then(|l| l.trim().parse().ok()).expect("a PID")
    }

    /// `scripts/pg-cluster.sh CMD DIR` on it (`promote`).
    pub fn run(&self, cmd: &str) {
        let out = Command::new(script()).arg(cmd).arg(&self.dir).output().expect("pg-cluster.sh");
        assert!(out.status.success(), "pg-cluster.sh {cmd}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The URL of its database `name`.
    pub fn database(&self, name: &str) -> String {
        format!("{}/{name}", self.url.trim_end_matches("/postgres"))
    }

    /// A client of its database `name`.
    pub fn client(&self, name: &str) -> postgres::Client {
        postgres::Client::connect(&self.database(name), postgres::NoTls).expect("connect")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

/// A directory the clusters' owner (postgres, when we are root) may write in.
pub fn cluster_home(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).expect("cluster home");
    let _ = Command::new("chown").arg("postgres").arg(path).status();
    path.to_path_buf()
}

/// A PostgreSQL server program, run as the clusters' owner when we are root.
pub fn server_program(name: &str) -> Command {
    let bin = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL installed").map(|e| e.unwrap().path().join("bin")).max();
    let bin = bin.expect("a PostgreSQL version");
    let am_root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if am_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(bin.join(name));
        cmd
    } else {
        Command::new(bin.join(name))
    }
}
