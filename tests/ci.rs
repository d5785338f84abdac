//! `parbuild ci github`: the generated workflows, as snapshots and parsed as YAML (jobs,
//! matrix, where the signing secrets appear, the exact parbuild commands, which
//! `tests/parts.rs` runs), and the refusal to overwrite one.
//! Update the snapshots with `SNAPSHOTS=overwrite cargo test --test ci`.

mod support;

use serde_norway::Value;
use support::{Project, check_snapshot};

/// The split workflow's commands; `tests/parts.rs` runs these very lines.
const BUILD_PART: &str = "parbuild build --target ${{ matrix.target }} --part-out parts/";
const ASSEMBLE: &str = "parbuild assemble parts/* -o build/snap.par.gz";
const VERIFY: &str = "parbuild verify build/snap.par.gz";

/// A provider with the four mission targets.
fn project() -> Project {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"snap-provider\"\nversion = \"0.4.2\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file("src/main.rs", "fn main() {}\n");
    p.file(
        "par.toml",
        "[provider]\nname = \"Snap\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {}\naarch64-linux = {}\narmv7-linux = {}\nx86_64-macos = {}\n\n[output]\npath = \"build/snap.par.gz\"\n",
    );
    p
}

const WORKFLOW: &str = ".github/workflows/par.yml";

/// Runs `parbuild ci github ARGS` and returns the workflow text, version redacted.
fn generate(p: &Project, args: &[&str]) -> String {
    let mut argv = vec!["ci", "github"];
    argv.extend(args);
    let out = p.parbuild(argv).success();
    assert!(out.stdout.contains(WORKFLOW), "{}", out.stdout);
    std::fs::read_to_string(p.path(WORKFLOW)).unwrap().replace(
        &format!("PARBUILD_VERSION: \"{}\"", env!("CARGO_PKG_VERSION")),
        "PARBUILD_VERSION: \"[VERSION]\"",
    )
}

fn runs(job: &Value) -> Vec<String> {
    job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .flat_map(|r| r.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn job_names(wf: &Value) -> Vec<&str> {
    wf["jobs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect()
}

fn mentions_secrets(job: &Value) -> bool {
    let text = serde_norway::to_string(job).unwrap();
    text.contains("secrets.")
        || text.contains("WASH_ISSUER_KEY")
        || text.contains("WASH_SUBJECT_KEY")
}

#[test]
fn one_job_builds_signs_and_packs() {
    let p = project();
    let text = generate(&p, &[]);
    check_snapshot("ci_github.yml", &text);
    let wf: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(job_names(&wf), ["build"]);
    let job = &wf["jobs"]["build"];
    assert_eq!(
        job["env"]["WASH_ISSUER_KEY"].as_str(),
        Some("${{ secrets.WASH_ISSUER_KEY }}")
    );
    assert_eq!(
        job["env"]["WASH_SUBJECT_KEY"].as_str(),
        Some("${{ secrets.WASH_SUBJECT_KEY }}")
    );
    let lines = runs(job);
    assert!(lines.iter().any(|l| l == "parbuild build"), "{lines:?}");
    assert!(lines.iter().any(|l| l == VERIFY), "{lines:?}");
    assert!(
        lines.iter().any(|l| l
            == "rustup target add x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf x86_64-apple-darwin"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "pip install cargo-zigbuild"));
    // sccache is offered, commented out.
    assert!(text.contains("# RUSTC_WRAPPER: sccache"));
    assert!(wf["env"].get("RUSTC_WRAPPER").is_none());
}

#[test]
fn split_builds_parts_per_target_and_only_the_assemble_job_has_the_keys() {
    for macos_runner in [false, true] {
        let p = project();
        let args: &[&str] = if macos_runner {
            &["--split", "--macos-runner"]
        } else {
            &["--split"]
        };
        let text = generate(&p, args);
        if macos_runner {
            check_snapshot("ci_github_split.yml", &text);
        }
        let wf: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(job_names(&wf), ["build", "assemble"]);
        let (build, assemble) = (&wf["jobs"]["build"], &wf["jobs"]["assemble"]);

        let matrix: Vec<(String, String, String)> = build["strategy"]["matrix"]["include"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap().to_owned();
                (s("target"), s("triple"), s("os"))
            })
            .collect();
        let mac = if macos_runner {
            "macos-latest"
        } else {
            "ubuntu-latest"
        };
        let expected = [
            ("x86_64-linux", "x86_64-unknown-linux-gnu", "ubuntu-latest"),
            (
                "aarch64-linux",
                "aarch64-unknown-linux-gnu",
                "ubuntu-latest",
            ),
            (
                "arm-linux",
                "armv7-unknown-linux-gnueabihf",
                "ubuntu-latest",
            ),
            ("x86_64-macos", "x86_64-apple-darwin", mac),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        assert_eq!(matrix, expected);
        assert_eq!(build["runs-on"].as_str(), Some("${{ matrix.os }}"));

        assert!(
            !mentions_secrets(build),
            "the build jobs never see the keys"
        );
        assert!(mentions_secrets(assemble));
        assert_eq!(
            assemble["env"]["WASH_ISSUER_KEY"].as_str(),
            Some("${{ secrets.WASH_ISSUER_KEY }}")
        );
        assert_eq!(
            assemble["env"]["WASH_SUBJECT_KEY"].as_str(),
            Some("${{ secrets.WASH_SUBJECT_KEY }}")
        );
        assert_eq!(assemble["needs"].as_str(), Some("build"));

        let build_lines = runs(build);
        assert!(
            build_lines.iter().any(|l| l == BUILD_PART),
            "{build_lines:?}"
        );
        assert!(
            build_lines
                .iter()
                .any(|l| l == "rustup target add ${{ matrix.triple }}")
        );
        let assemble_lines = runs(assemble);
        assert!(
            assemble_lines.iter().any(|l| l == ASSEMBLE),
            "{assemble_lines:?}"
        );
        assert!(assemble_lines.iter().any(|l| l == VERIFY));
        // Parts travel from the build jobs to the assemble job.
        let steps = |job: &Value| serde_norway::to_string(&job["steps"]).unwrap();
        assert!(steps(build).contains("name: part-${{ matrix.target }}"));
        assert!(steps(assemble).contains("pattern: part-*"));
    }
}

#[test]
fn an_existing_workflow_is_kept_unless_forced() {
    let p = project();
    p.file(WORKFLOW, "# mine\n");
    let out = p.parbuild(["ci", "github"]).code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(p.path(WORKFLOW)).unwrap(),
        "# mine\n"
    );
    p.parbuild(["ci", "github", "--split", "--force"]).success();
    assert!(
        std::fs::read_to_string(p.path(WORKFLOW))
            .unwrap()
            .contains("parbuild assemble")
    );
    // `--macos-runner` means something only with `--split`.
    p.parbuild(["ci", "github", "--macos-runner", "--force"])
        .code(2);
}
