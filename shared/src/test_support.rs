//! The set-up the tests of whole exports share: the jobs' dependencies on a local data folder, a
//! segment snapshot of numbered people, and a destination connected to an API (the sandbox,
//! given by its URL) and configured with its data matching and segments. Compiled for this crate's
//! tests and, with the `test-support` feature, for other crates' tests; the product never calls it.

use crate::audience_api::{ApiFactory, ClientSettings};
use crate::destination::{DataMatching, Segment};
use crate::jobs::{configure, connect};
use crate::store::LocalStore;
use crate::{secrets::FileSecrets, snapshot::LocalFiles, Deps, JobError};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The API key the sandbox of the tests accepts.
pub const KEY: &str = "test-key-0123456789";

/// The jobs' dependencies on a data folder `dir/data`, as the command builds them; a test that
/// needs its own store or snapshot reader replaces that field.
pub fn local_deps(dir: &Path, settings: ClientSettings) -> Deps {
    Deps {
        store: Arc::new(LocalStore::new(dir.join("data"))),
        secrets: Arc::new(FileSecrets::new(dir.join("data/secrets"))),
        snapshots: Arc::new(LocalFiles),
        apis: Arc::new(ApiFactory::new(settings)),
    }
}

/// Writes a snapshot of `people` rows `p{i}@example.com,P{i}` under the header `email,first`.
pub fn write_people(path: &Path, people: u32) -> std::io::Result<()> {
    let mut text = String::from("email,first\n");
    for i in 0..people {
        text.push_str(&format!("p{i}@example.com,P{i}\n"));
    }
    std::fs::write(path, text)
}

/// A destination to connect and configure. Unless a test says otherwise it is named "Test
/// Account", uses [`KEY`] with consent given, no export user and Autopilot's default rate, takes
/// the email from the column `email` and the first name from `first` (as [`write_people`]
/// writes them), and has no segments and no profile limit of its own.
#[derive(Debug, Clone)]
pub struct TestDestination {
    display_name: String,
    api_url: String,
    key: String,
    consent: bool,
    export_user: Option<String>,
    rate: Option<f64>,
    matching: DataMatching,
    segments: Vec<Segment>,
    profile_limit: Option<u64>,
}

impl TestDestination {
    /// A destination exporting to the Autopilot at `api_url`.
    pub fn new(api_url: impl Into<String>) -> Self {
        Self {
            display_name: "Test Account".into(),
            api_url: api_url.into(),
            key: KEY.into(),
            consent: true,
            export_user: None,
            rate: None,
            matching: DataMatching {
                email: "email".into(),
                first_name: Some("first".into()),
                last_name: None,
                fields: BTreeMap::new(),
                custom: BTreeMap::new(),
            },
            segments: Vec::new(),
            profile_limit: None,
        }
    }

    /// Its display name (its id is made from it).
    pub fn named(mut self, display_name: &str) -> Self {
        self.display_name = display_name.into();
        self
    }

    /// The API key given at connect.
    pub fn key(mut self, key: &str) -> Self {
        self.key = key.into();
        self
    }

    /// Connects without agreeing to the data-privacy notice.
    pub fn without_consent(mut self) -> Self {
        self.consent = false;
        self
    }

    /// Who exports run as.
    pub fn export_user(mut self, user: &str) -> Self {
        self.export_user = Some(user.into());
        self
    }

    /// Requests per second to the API.
    pub fn rate(mut self, requests_per_second: f64) -> Self {
        self.rate = Some(requests_per_second);
        self
    }

    /// The columns holding the email address and the first name.
    pub fn columns(mut self, email: &str, first_name: &str) -> Self {
        self.matching.email = email.into();
        self.matching.first_name = Some(first_name.into());
        self
    }

    /// The custom field `field` (`integer--Age`) taken from `column`.
    pub fn custom(mut self, field: &str, column: &str) -> Self {
        self.matching.custom.insert(field.into(), column.into());
        self
    }

    /// The whole data matching.
    pub fn matching(mut self, matching: DataMatching) -> Self {
        self.matching = matching;
        self
    }

    /// A segment as it is stored (with column names for headerless files, say).
    pub fn segment_as(mut self, segment: Segment) -> Self {
        self.segments.push(segment);
        self
    }

    /// A segment, its list named `name`, read from `source` (a path or a URL).
    pub fn segment(mut self, name: &str, source: impl AsRef<Path>) -> Self {
        self.segments
            .push(Segment::new(name, source.as_ref().display().to_string()));
        self
    }

    /// The destination's own limit of distinct profiles (`None`: the default).
    pub fn profile_limit(mut self, limit: Option<u64>) -> Self {
        self.profile_limit = limit;
        self
    }

    /// Connects it; its id.
    pub async fn connect(&self, deps: &Deps) -> Result<String, JobError> {
        let input = connect::Input {
            display_name: self.display_name.clone(),
            api_key: SecretString::from(self.key.clone()),
            consent: self.consent,
            export_user: self.export_user.clone(),
            api: Default::default(),
            api_url: Some(self.api_url.clone()),
            requests_per_second: self.rate,
        };
        Ok(connect::run(input, deps).await?.destination_id)
    }

    /// Configures the connected destination `id` with its data matching and segments.
    pub async fn configure(&self, deps: &Deps, id: &str) -> Result<(), JobError> {
        let input = configure::Input {
            destination_id: id.into(),
            data_matching: self.matching.clone(),
            segments: self.segments.clone(),
            profile_limit: self.profile_limit,
            requests_per_second: None,
            schedule: None,
            max_removal_percent: None,
            max_shrink_percent: None,
        };
        configure::run(input, deps).await.map(drop)
    }

    /// Connects and configures it; its id.
    pub async fn create(&self, deps: &Deps) -> Result<String, JobError> {
        let id = self.connect(deps).await?;
        self.configure(deps, &id).await?;
        Ok(id)
    }
}

/// Rewrites the footer of the Parquet file at `path` as `change` makes it, leaving its pages as
/// they are: a file whose metadata says what a writer would not (another codec, sizes that were
/// never written).
pub fn rewrite_parquet_footer(
    path: &Path,
    change: impl FnOnce(
        parquet::file::metadata::ParquetMetaData,
    ) -> parquet::file::metadata::ParquetMetaData,
) {
    use parquet::file::metadata::{FooterTail, ParquetMetaDataReader, ParquetMetaDataWriter};
    let bytes = std::fs::read(path).expect("the file is there");
    let end: &[u8; 8] = bytes[bytes.len() - 8..].try_into().expect("a footer");
    let length = FooterTail::try_new(end)
        .expect("a footer")
        .metadata_length();
    let start = bytes.len() - 8 - length;
    let metadata = ParquetMetaDataReader::decode_metadata(&bytes[start..bytes.len() - 8])
        .expect("valid metadata");
    let mut out = bytes[..start].to_vec();
    ParquetMetaDataWriter::new(&mut out, &change(metadata))
        .finish()
        .expect("the footer is written");
    std::fs::write(path, out).expect("the file is written");
}

/// [`rewrite_parquet_footer`] changing every column chunk of every row group with `change`.
pub fn rewrite_parquet_columns(
    path: &Path,
    change: impl Fn(
        parquet::file::metadata::ColumnChunkMetaDataBuilder,
    ) -> parquet::file::metadata::ColumnChunkMetaDataBuilder,
) {
    rewrite_parquet_footer(path, |metadata| {
        let groups = metadata
            .row_groups()
            .iter()
            .map(|group| {
                let columns = group
                    .columns()
                    .iter()
                    .map(|c| change(c.clone().into_builder()).build().expect("a column"))
                    .collect();
                group
                    .clone()
                    .into_builder()
                    .set_column_metadata(columns)
                    .build()
                    .expect("a row group")
            })
            .collect();
        metadata.into_builder().set_row_groups(groups).build()
    });
}
