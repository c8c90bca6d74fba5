//! Writing what `get` reads into a local Parquet, Arrow IPC or CSV file, or
//! Parquet to stdout. A file is written under a temporary name and renamed
//! when complete, so a failed `get` never leaves half a file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use batchmeta::{Code, Error, Result};
use parquet::arrow::ArrowWriter;

use super::Format;

type Out = Box<dyn Write + Send>;

enum Writer {
    Parquet(ArrowWriter<Out>),
    Ipc(arrow_ipc::writer::FileWriter<Out>),
    Csv(arrow_csv::Writer<Out>),
}

/// An open output.
pub(crate) struct Sink {
    writer: Writer,
    /// `(temporary, final)` paths of a file output; `None` for stdout.
    rename: Option<(PathBuf, PathBuf)>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("rename", &self.rename)
            .finish_non_exhaustive()
    }
}

/// Opens `path` (`-` = stdout, Parquet) for batches of `schema`.
pub(crate) fn open_sink(path: &Path, schema: &SchemaRef) -> Result<Sink> {
    let (format, out, rename): (Format, Out, _) = if path == Path::new("-") {
        (
            Format::Parquet,
            Box::new(std::io::BufWriter::new(std::io::stdout())),
            None,
        )
    } else {
        let format = Format::from_extension(path).ok_or_else(|| {
            Error::invalid(
                Code::UnknownFileFormat,
                format!(
                    "cannot tell which format to write to {}; hint: end the name with .parquet, .arrow or .csv, or pass -o - for Parquet on stdout",
                    path.display()
                ),
            )
        })?;
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let tmp = path.with_file_name(name);
        let file = std::fs::File::create(&tmp).map_err(|e| {
            Error::invalid(
                Code::CannotCreateFile,
                format!(
                    "cannot create {}: {e}; hint: check that its directory exists and is writable",
                    path.display()
                ),
            )
        })?;
        (
            format,
            Box::new(std::io::BufWriter::new(file)),
            Some((tmp, path.to_path_buf())),
        )
    };
    let writer = match format {
        Format::Parquet => Writer::Parquet(ArrowWriter::try_new(out, schema.clone(), None)?),
        Format::Ipc => Writer::Ipc(arrow_ipc::writer::FileWriter::try_new(out, schema)?),
        Format::Csv => Writer::Csv(arrow_csv::WriterBuilder::new().with_header(true).build(out)),
    };
    Ok(Sink { writer, rename })
}

impl Sink {
    /// Appends a batch.
    pub(crate) fn write(&mut self, rb: &RecordBatch) -> Result<()> {
        let r = match &mut self.writer {
            Writer::Parquet(w) => w.write(rb).map_err(Error::from),
            Writer::Ipc(w) => w.write(rb).map_err(Error::from),
            Writer::Csv(w) => w.write(rb).map_err(Error::from),
        };
        r.map_err(|e| self.failed(e))
    }

    /// Completes the output (footer, flush, rename into place).
    pub(crate) fn finish(self) -> Result<()> {
        let Sink { writer, rename } = self;
        let out: Result<Out> = match writer {
            // Flushes the last row group and writes the footer.
            Writer::Parquet(w) => w.into_inner().map_err(Error::from),
            Writer::Ipc(w) => w.into_inner().map_err(Error::from),
            Writer::Csv(w) => Ok(w.into_inner()),
        };
        let done = out.and_then(|mut o| {
            o.flush()
                .map_err(|e| Error::Internal(format!("cannot write the output: {e}")))
        });
        if let Err(e) = done {
            if let Some((tmp, _)) = &rename {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(e);
        }
        if let Some((tmp, dest)) = rename {
            std::fs::rename(&tmp, &dest).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::Internal(format!("cannot move {} into place: {e}", tmp.display()))
            })?;
        }
        Ok(())
    }

    /// Removes the temporary file of a failed write.
    pub(crate) fn abort(mut self) {
        if let Some((tmp, _)) = self.rename.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }

    fn failed(&mut self, e: Error) -> Error {
        if let Some((tmp, _)) = &self.rename {
            let _ = std::fs::remove_file(tmp);
        }
        e
    }
}
