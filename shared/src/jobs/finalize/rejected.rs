//! `rejected.csv`: segment, file, row, email, reason — the rows refused before sending and the
//! contacts refused by the API (its reason code, `rejected_by_autopilot: …` or
//! `rejected_by_ortto: …`, from its [`Vocabulary`]) or left out by it on purpose (`suppressed:
//! …`), in row order per segment; each named by the file it came from (a part of a folder or
//! model: its path below it) and its row number there. No cell starts like a spreadsheet formula.
//! The refused rows are read from the plan's parts one at a time and merged with the API's
//! refusals (at most the contacts sent), so
//! memory holds the file being written, which the plan keeps under 64 MB
//! ([`crate::jobs::plan::refused::MAX_REFUSED_BYTES`]), and one part.

use crate::audience_api::Vocabulary;
use crate::destination::keys;
use crate::jobs::plan::{refused, InvalidRow, Plan};
use crate::jobs::upload_chunk::ChunkResult;
use crate::jobs::JobError;
use crate::store::{get_json, ObjectStore};
use bytes::Bytes;

/// Writes `rejected.csv` beside the report when anything was refused, the API's refusals under
/// the reason code of `words`; returns its key.
pub(super) async fn write(
    store: &dyn ObjectStore,
    words: &Vocabulary,
    plan: Option<&Plan>,
    dest: &str,
    export: &str,
    results: &[&ChunkResult],
) -> Result<Option<String>, JobError> {
    let Some(plan) = plan else { return Ok(None) };
    let mut by_api: Vec<(usize, u64, &str, String)> = Vec::new();
    for result in results {
        for r in &result.rejected {
            by_api.push((
                result.segment,
                r.row,
                r.email.as_str(),
                if r.suppressed {
                    format!("suppressed: {}", r.message)
                } else {
                    format!("{}: {}", words.rejected_reason, r.message)
                },
            ));
        }
    }
    by_api.sort_by_key(|r| (r.0, r.1));
    let mut file = Csv::new(plan)?;
    let mut by_api = by_api.into_iter().peekable();
    let mut merge = |rows: Vec<InvalidRow>| -> Result<(), JobError> {
        for row in rows {
            while let Some((segment, number, email, reason)) =
                by_api.next_if(|r| (r.0, r.1) < (row.segment, row.row))
            {
                file.row(segment, number, email, &reason)?;
            }
            file.row(row.segment, row.row, &row.email, &row.reason)?;
        }
        Ok(())
    };
    let key = keys::rejected(dest, export);
    let first = refused::part_key(dest, export, 0);
    if plan.refused_parts > 0 && !store.exists(&first).await? && store.exists(&key).await? {
        // Finalize runs again after it finished: the parts are gone into the file already.
        return Ok(Some(key));
    }
    if plan.refused_parts > 0 {
        refused::read_parts(store, dest, export, plan.refused_parts, &mut merge).await?;
    } else if let Some(legacy) = get_json(store, &keys::invalid(dest, export)).await? {
        // An export planned by an earlier version: its refused rows are in one object.
        merge(legacy)?;
    }
    for (segment, number, email, reason) in by_api {
        file.row(segment, number, email, &reason)?;
    }
    if file.rows == 0 {
        return Ok(None);
    }
    store.put(&key, Bytes::from(file.finish()?)).await?;
    Ok(Some(key))
}

/// Deletes the plan's parts of refused rows once `rejected.csv` holds them, the first part first
/// (its absence is what tells a repeated finalize that the file is written).
pub(super) async fn forget_parts(
    store: &dyn ObjectStore,
    plan: &Plan,
    dest: &str,
    export: &str,
) -> Result<(), JobError> {
    for part in 0..plan.refused_parts {
        store.delete(&refused::part_key(dest, export, part)).await?;
    }
    Ok(())
}

/// A cell a spreadsheet shows as text: one that starts like a formula (`=`, `+`, `-`, `@`, a tab
/// or a carriage return, OWASP's CSV-injection rule) gets a `'` in front. A cell like
/// `=HYPERLINK(…)` in a snapshot would otherwise run when rejected.csv is opened. Control
/// characters other than line breaks and tabs (NUL, escape sequences a terminal would obey)
/// become `�`.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && !matches!(c, '\t' | '\r' | '\n');
    let cell: std::borrow::Cow<'_, str> = if cell.contains(control) {
        cell.replace(control, "\u{fffd}").into()
    } else {
        cell.into()
    };
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell
    }
}

/// The file as it is written.
struct Csv<'a> {
    plan: &'a Plan,
    writer: csv::Writer<Vec<u8>>,
    rows: u64,
}

fn csv_error(e: impl std::fmt::Display) -> JobError {
    JobError::InvalidInput(format!("rejected.csv could not be written: {e}"))
}

impl<'a> Csv<'a> {
    fn new(plan: &'a Plan) -> Result<Self, JobError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(["segment", "file", "row", "email", "reason"])
            .map_err(csv_error)?;
        Ok(Self {
            plan,
            writer,
            rows: 0,
        })
    }

    fn row(&mut self, segment: usize, row: u64, email: &str, reason: &str) -> Result<(), JobError> {
        let plan = self.plan.segments.get(segment);
        let name = plan.map_or("", |s| s.name.as_str());
        let (file, row) = plan.map_or((None, row), |s| s.place(row));
        let email = refused::cap(email, refused::MAX_CELL_CHARS);
        let number = row.to_string();
        let cells = [name, file.unwrap_or(""), &number, &email, reason].map(inert);
        self.writer
            .write_record(cells.iter().map(|c| c.as_bytes()))
            .map_err(csv_error)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, JobError> {
        self.writer.into_inner().map_err(csv_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience_api::ApiKind;
    use crate::jobs::plan::{ChunkKind, FileRows, SegmentPlan};
    use crate::jobs::upload_chunk::RejectedContact;
    use crate::store::LocalStore;

    fn plan(parts: u32) -> Plan {
        let segment = |name: &str| SegmentPlan {
            name: name.into(),
            ..SegmentPlan::default()
        };
        // B was read from two files: its rows 1 to 3 are the first's, the next the second's.
        let mut b = segment("B");
        b.files = vec![
            FileRows {
                name: "part-0.csv".into(),
                offset: 0,
            },
            FileRows {
                name: "sub/part-1.csv".into(),
                offset: 3,
            },
        ];
        Plan {
            destination_id: "d".into(),
            export_id: "e".into(),
            started_at: chrono::Utc::now(),
            requests_per_second: 10.0,
            distinct_profiles: 0,
            segments: vec![segment("A"), b],
            chunks: Vec::new(),
            refused_parts: parts,
            trigger: Default::default(),
            baseline_unchanged: false,
            limits: crate::audience_api::ApiKind::Autopilot.limits(),
            api: crate::audience_api::ApiKind::Autopilot,
        }
    }

    #[test]
    fn a_report_names_the_api_the_plan_recorded() {
        // What finalize falls back on when the destination is gone by the time it finishes.
        let input = super::super::Input {
            destination_id: "d".into(),
            export_id: "e".into(),
            failure: None,
        };
        for api in [ApiKind::Autopilot, ApiKind::Ortto] {
            let plan = Plan { api, ..plan(0) };
            let report = super::super::build::report(&input, Some(&plan), &[], chrono::Utc::now());
            assert_eq!(report.api, api);
        }
        let old: Plan = serde_json::from_value({
            let mut v = serde_json::to_value(plan(0)).unwrap();
            v.as_object_mut().unwrap().remove("api");
            v
        })
        .unwrap();
        assert_eq!(
            old.api,
            ApiKind::Autopilot,
            "plans written before it was recorded"
        );
    }

    fn invalid(segment: usize, row: u64) -> String {
        let row = InvalidRow {
            segment,
            row,
            email: format!("bad{row}"),
            reason: "invalid_email: the email has no @".into(),
        };
        format!("{}\n", serde_json::to_string(&row).unwrap())
    }

    fn by_api(segment: usize, rows: &[u64]) -> ChunkResult {
        ChunkResult {
            chunk: 0,
            segment,
            kind: ChunkKind::Add,
            sent: 0,
            rejected: rows
                .iter()
                .map(|&row| RejectedContact {
                    row,
                    email: format!("p{row}@x.io"),
                    message: "Bad email".into(),
                    suppressed: false,
                })
                .collect(),
            removed: 0,
        }
    }

    #[tokio::test]
    async fn parts_and_autopilot_refusals_merge_in_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let parts = [
            invalid(0, 3) + &invalid(0, 5),
            invalid(1, 2),
            // Left over by an earlier, interrupted plan: not this plan's.
            invalid(1, 9),
        ];
        for (n, part) in parts.iter().enumerate() {
            let key = refused::part_key("d", "e", n as u32);
            store.put(&key, Bytes::from(part.clone())).await.unwrap();
        }
        let results = [by_api(1, &[4, 3]), by_api(0, &[6, 2, 4])];
        let autopilot = ApiKind::Autopilot.vocabulary();
        let key = write(
            &store,
            autopilot,
            Some(&plan(2)),
            "d",
            "e",
            &[&results[0], &results[1]],
        )
        .await
        .unwrap()
        .unwrap();
        let text = String::from_utf8(store.get(&key).await.unwrap().to_vec()).unwrap();
        let rows: Vec<&str> = text.lines().map(|l| l.split(',').next().unwrap()).collect();
        let numbers: Vec<&str> = text.lines().map(|l| l.split(',').nth(2).unwrap()).collect();
        assert_eq!(rows, ["segment", "A", "A", "A", "A", "A", "B", "B", "B"]);
        assert_eq!(numbers, ["row", "2", "3", "4", "5", "6", "2", "3", "1"]);
        assert!(
            text.contains("\nA,,3,bad3,invalid_email: the email has no @\n"),
            "{text}"
        );
        assert!(
            text.contains("\nB,part-0.csv,2,bad2,invalid_email: the email has no @\n"),
            "{text}"
        );
        assert!(
            text.contains("\nB,sub/part-1.csv,1,p4@x.io,rejected_by_autopilot: Bad email\n"),
            "{text}"
        );

        // Parts gone and the file written: a repeated finalize keeps the file.
        forget_parts(&store, &plan(2), "d", "e").await.unwrap();
        let again = write(&store, autopilot, Some(&plan(2)), "d", "e", &[])
            .await
            .unwrap();
        assert_eq!(again.as_deref(), Some(key.as_str()));
        assert_eq!(store.get(&key).await.unwrap(), text.as_bytes());
        assert!(store.exists(&refused::part_key("d", "e", 2)).await.unwrap());

        // An export planned by an earlier version keeps its refused rows in invalid.json.
        let legacy = vec![serde_json::from_str::<InvalidRow>(invalid(0, 7).trim()).unwrap()];
        crate::store::put_json(&store, &keys::invalid("d", "e"), &legacy)
            .await
            .unwrap();
        write(&store, autopilot, Some(&plan(0)), "d", "e", &[])
            .await
            .unwrap();
        let text = String::from_utf8(store.get(&key).await.unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            "segment,file,row,email,reason\nA,,7,bad7,invalid_email: the email has no @\n"
        );
        // Nothing refused, no file.
        let empty = LocalStore::new(dir.path().join("x"));
        let none = write(&empty, autopilot, Some(&plan(0)), "d", "e", &[])
            .await
            .unwrap();
        assert_eq!(none, None);
    }

    #[tokio::test]
    async fn each_api_refusals_carry_its_own_reason_code() {
        for (kind, code) in [
            (ApiKind::Autopilot, "rejected_by_autopilot"),
            (ApiKind::Ortto, "rejected_by_ortto"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::new(dir.path());
            let results = [by_api(0, &[2])];
            let key = write(
                &store,
                kind.vocabulary(),
                Some(&plan(0)),
                "d",
                "e",
                &[&results[0]],
            )
            .await
            .unwrap()
            .unwrap();
            let text = String::from_utf8(store.get(&key).await.unwrap().to_vec()).unwrap();
            assert!(
                text.ends_with(&format!("\nA,,2,p2@x.io,{code}: Bad email\n")),
                "{text}"
            );
        }
    }

    #[tokio::test]
    async fn no_cell_is_read_as_a_formula() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let cells = [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "a=b",
            "a\u{1b}[31m\0b",
        ];
        let mut part = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let row = InvalidRow {
                segment: 0,
                row: i as u64 + 2,
                email: cell.to_string(),
                reason: format!("{cell} as a reason"),
            };
            part.push_str(&format!("{}\n", serde_json::to_string(&row).unwrap()));
        }
        store
            .put(&refused::part_key("d", "e", 0), Bytes::from(part))
            .await
            .unwrap();
        let mut plan = plan(1);
        plan.segments[0].name = "=1+1".into();
        let key = write(
            &store,
            ApiKind::Autopilot.vocabulary(),
            Some(&plan),
            "d",
            "e",
            &[],
        )
        .await
        .unwrap()
        .unwrap();
        let bytes = store.get(&key).await.unwrap();
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), cells.len());
        for (row, cell) in rows.iter().zip(cells) {
            let safe = if cell.starts_with('a') {
                cell.replace(['\u{1b}', '\0'], "\u{fffd}")
            } else {
                format!("'{cell}")
            };
            assert_eq!(&row[0], "'=1+1");
            assert_eq!(row[3], safe);
            assert_eq!(row[4], format!("{safe} as a reason"));
        }
    }
}
