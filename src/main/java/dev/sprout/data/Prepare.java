package dev.sprout.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code sprout prepare}: tokenizes a corpus into a data folder of uint16/uint32 token shards plus meta.json.
 *
 * <p>Documents are joined with the tokenizer's separator: the EOT token for gpt2, a blank line ("\n\n") for char
 * and byte, for hf its end-of-text token if it has one ({@link HfEndOfText}) else a blank line. An hf tokenizer's
 * tokenizer.json is copied into the folder, which is then all that train, sample and eval need. As in nanoGPT, the
 * whole token stream is split once: the first {@code 1 - valFraction} of it is train, the rest val, which also works for a single-document corpus such as tinyshakespeare. Everything is written to a
 * hidden temporary folder beside the output and moved into place at the end, so an interrupted run never leaves a
 * half-written folder that looks valid.
 *
 * <p>The byte tokenizer reads text files as their raw bytes, whatever the encoding (JSON text as UTF-8); its corpus is
 * then counted in bytes where others count chars (progress, max_chars, meta.json's chars). A separator regex splits
 * text files into several documents; with skip_bad_files a file that cannot be read in full is left out whole.
 */
public final class Prepare {
    private static final long PROGRESS_EVERY_CHARS = 10_000_000L;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern DATA_FILE = Pattern.compile("meta\\.json|tokenizer\\.json|(train|val)-\\d{5}\\.bin");

    private Prepare() {}

    public static PrepareResult run(PrepareOptions opts) {
        return run(opts, CorpusReader.DEFAULT_CHUNK_CHARS);
    }

    /** {@code chunkChars} bounds the text passed to one tokenizer call; tests shrink it to exercise chunking. */
    static PrepareResult run(PrepareOptions opts, int chunkChars) {
        long t0 = System.nanoTime();
        opts.validate();
        Consumer<String> progress = opts.progress() == null ? m -> {} : opts.progress();
        Path out = opts.output().toAbsolutePath().normalize();
        Path parent = out.getParent();
        if (parent == null) throw new DataException(opts.output() + ": output cannot be the file-system root");
        checkReplaceable(out, opts.force());

        List<Path> files = InputFiles.collect(opts.inputs(), out);
        progress.accept("prepare: " + files.size() + " input file(s), tokenizer " + opts.tokenizer());
        boolean bytes = opts.tokenizer().equals(ByteTokenizer.NAME);
        String unit = bytes ? "bytes" : "chars";
        Consumer<String> warnings = opts.warnings() == null ? System.err::println : opts.warnings();
        CorpusReader reader = new CorpusReader(files, opts.maxChars(), chunkChars, bytes, opts.separatorPattern(),
                opts.skipBadFiles() ? warnings : null);
        Tokenizer tokenizer = opts.tokenizer().equals(CharTokenizer.NAME)
                ? charVocabulary(reader, files, progress)
                : Tokenizers.forName(opts.tokenizer(), null);
        if (tokenizer instanceof HfTokenizer hf) progress.accept(describe(hf, opts.tokenizer()));

        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = createSibling(out, ".tmp-");
        } catch (IOException e) {
            throw new DataException(parent + ": cannot create the output folder (" + e.getMessage() + ")", e);
        }
        try {
            String dtype = DataMeta.dtypeFor(tokenizer.vocabSize());
            int width = DataMeta.UINT16.equals(dtype) ? 2 : 4;
            CorpusReader.Stats stats;
            List<ShardWriter.Part> parts;
            long total;
            try (ShardWriter writer = new ShardWriter(tmp, width, opts.shardTokens(), tokenizer.vocabSize())) {
                stats = reader.read(new TokenSink(tokenizer, bytes, writer, progress));
                parts = writer.finish();
                total = writer.total();
            } catch (UncheckedIOException e) {
                throw new DataException(tmp + ": cannot write tokens (" + e.getCause().getMessage() + ")", e);
            }
            if (total == 0) throw new DataException("inputs: no text found in " + describe(files));

            long train = (long) Math.floor(total * (1.0 - opts.valFraction()));
            List<DataMeta.Shard> shards = finishShards(tmp, parts, train, width);
            List<DataMeta.Source> sources = new ArrayList<>();
            for (Path f : stats.used()) sources.add(new DataMeta.Source(f.toString(), Files.size(f)));
            TokenizerSpec spec = tokenizer.spec();
            DataMeta meta = new DataMeta(DataMeta.FORMAT_VERSION, spec.name(), spec.vocabSize(), dtype, spec.charVocab(), spec.sha256(), spec.eosToken(),
                    train, total - train, opts.valFraction(), stats.documents(), stats.chars(),
                    opts.maxChars() == PrepareOptions.UNLIMITED ? null : opts.maxChars(),
                    shards, sources, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            if (tokenizer instanceof HfTokenizer hf) hf.writeFile(tmp.resolve(HfTokenizer.FILE));
            meta.write(tmp.resolve(DataMeta.FILE_NAME));
            install(tmp, out, opts.force());
            progress.accept(String.format("prepare: %,d document%s, %,d %s -> %,d train + %,d val tokens (%s) in %s%s%s",
                    stats.documents(), stats.documents() == 1 ? "" : "s", stats.chars(), unit, meta.trainTokens(), meta.valTokens(), dtype, out,
                    stats.capped() ? " (stopped at max_chars " + opts.maxChars() + (bytes ? " bytes" : "") + ")" : "",
                    stats.skipped().isEmpty() ? "" : "; skipped " + files(stats.skipped().size()) + " as unreadable or malformed"));
            return new PrepareResult(out, meta, stats.capped(), stats.skipped(), (System.nanoTime() - t0) / 1e9);
        } catch (IOException e) {
            throw new DataException(out + ": cannot write data folder (" + e.getMessage() + ")", e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** What prepare says about an hf tokenizer: its size and what separates documents, and why. */
    private static String describe(HfTokenizer hf, String option) {
        String file = option.substring(HfTokenizer.PREFIX.length());
        String separator = hf.endOfTextToken() != null
                ? "its end-of-text token '" + hf.endOfTextToken() + "' (id " + hf.eotToken() + "; " + hf.endOfTextReason() + ")"
                : "a blank line (\"\\n\\n\"; " + hf.endOfTextReason() + ")";
        return "prepare: hf tokenizer " + file + ", " + hf.vocabSize() + " tokens, sha256 " + hf.sha256().substring(0, 12) + "...; documents separated by " + separator;
    }

    /** First pass for "char": the vocabulary is every code point of the (capped) corpus. */
    private static Tokenizer charVocabulary(CorpusReader reader, List<Path> files, Consumer<String> progress) {
        BitSet seen = new BitSet();
        CorpusReader.Stats stats = reader.read((text, start, src) -> CharTokenizer.addCodePoints(seen, text));
        if (stats.chars() == 0) throw new DataException("inputs: no text found in " + describe(files));
        // The blank-line document separator must be expressible.
        if (stats.documents() > 1) seen.set('\n');
        CharTokenizer t = new CharTokenizer(seen.stream().toArray());
        progress.accept("prepare: char vocabulary of " + t.vocabSize() + " code points");
        return t;
    }

    /** "1 file", "3 files". */
    private static String files(int n) {
        return n + (n == 1 ? " file" : " files");
    }

    /**
     * Tokenizes chunks into the shard writer, inserting the document separator between documents. For the byte
     * tokenizer the chunks are byte strings (see {@link CorpusReader}).
     */
    private static final class TokenSink implements CorpusReader.Sink {
        private final Tokenizer tokenizer;
        private final boolean bytes;
        private final ShardWriter writer;
        private final Consumer<String> progress;
        private int[] separator;
        private long docs;
        private long chars;  // bytes for the byte tokenizer
        private long nextReport = PROGRESS_EVERY_CHARS;

        TokenSink(Tokenizer tokenizer, boolean bytes, ShardWriter writer, Consumer<String> progress) {
            this.tokenizer = tokenizer;
            this.bytes = bytes;
            this.writer = writer;
            this.progress = progress;
        }

        @Override
        public void chunk(String text, boolean startsDocument, Path source) {
            try {
                if (startsDocument && docs++ > 0) {
                    // Lazily: a single-document char vocabulary may lack '\n'.
                    if (separator == null) separator = tokenizer.documentSeparator();
                    writer.write(separator);
                }
                writer.write(bytes ? ByteTokenizer.encodeByteString(text) : tokenizer.encode(text));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            chars += text.length();
            if (chars >= nextReport) {
                nextReport += PROGRESS_EVERY_CHARS;
                progress.accept(String.format("prepare: %,d %s, %,d documents, %,d tokens (%s)",
                        chars, bytes ? "bytes" : "chars", docs, writer.total(), source.getFileName()));
            }
        }
    }

    /**
     * Turns the part files into train-NNNNN.bin and val-NNNNN.bin: parts wholly before the boundary are renamed to
     * train shards, parts after it to val shards, and the one part straddling it is cut in two. Only that part's
     * val side is copied; everything else is a rename.
     */
    private static List<DataMeta.Shard> finishShards(Path dir, List<ShardWriter.Part> parts, long trainTokens, int width)
            throws IOException {
        List<Path> trainFiles = new ArrayList<>();
        List<Path> valFiles = new ArrayList<>();
        List<Long> trainCounts = new ArrayList<>();
        List<Long> valCounts = new ArrayList<>();
        long off = 0;
        for (ShardWriter.Part p : parts) {
            long end = off + p.tokens();
            if (end <= trainTokens) {
                trainFiles.add(rename(p.file(), shardName(Split.TRAIN, trainFiles.size())));
                trainCounts.add(p.tokens());
            } else if (off >= trainTokens) {
                valFiles.add(rename(p.file(), shardName(Split.VAL, valFiles.size())));
                valCounts.add(p.tokens());
            } else {
                long keep = trainTokens - off;
                Path val = p.file().resolveSibling(shardName(Split.VAL, valFiles.size()));
                try (FileChannel src = FileChannel.open(p.file(), StandardOpenOption.READ, StandardOpenOption.WRITE);
                     FileChannel dst = FileChannel.open(val, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    long pos = keep * width, size = src.size();
                    while (pos < size) pos += src.transferTo(pos, size - pos, dst);
                    src.truncate(keep * width);
                }
                valFiles.add(val);
                valCounts.add(end - trainTokens);
                trainFiles.add(rename(p.file(), shardName(Split.TRAIN, trainFiles.size())));
                trainCounts.add(keep);
            }
            off = end;
        }
        List<DataMeta.Shard> shards = new ArrayList<>();
        for (int i = 0; i < trainFiles.size(); i++) shards.add(shard(Split.TRAIN, trainFiles.get(i), trainCounts.get(i)));
        for (int i = 0; i < valFiles.size(); i++) shards.add(shard(Split.VAL, valFiles.get(i), valCounts.get(i)));
        return shards;
    }

    static String shardName(Split split, int index) {
        return String.format("%s-%05d.bin", split.key(), index);
    }

    private static Path rename(Path file, String name) throws IOException {
        return Files.move(file, file.resolveSibling(name));
    }

    private static DataMeta.Shard shard(Split split, Path file, long tokens) throws IOException {
        return new DataMeta.Shard(split.key(), file.getFileName().toString(), tokens, sha256(file));
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * The output may be absent or an empty folder; an earlier Sprout data folder only with {@code force}, because runs
     * from before runs kept their tokenizer decode with it. Other folders are never replaced, even with force: replacing
     * means deleting, and a mistyped --out must not cost anyone their files.
     */
    private static void checkReplaceable(Path out, boolean force) {
        if (!Files.exists(out)) return;
        if (!Files.isDirectory(out)) throw new DataException(out + ": output exists and is not a folder");
        if (isEmptyDir(out)) return;
        if (!isDataFolder(out)) {
            throw new DataException(out + ": refusing to overwrite a non-empty folder that is not a Sprout data folder" + (force ? " (--force replaces only those)" : ""));
        }
        if (!force) throw new DataException(out + ": not empty (it holds prepared data); pass --force to replace it");
    }

    /** meta.json plus nothing but train/val shards: what an earlier prepare wrote (even if its meta is damaged). */
    static boolean isDataFolder(Path dir) {
        if (!Files.isRegularFile(dir.resolve(DataMeta.FILE_NAME))) return false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (!Files.isRegularFile(p) || !DATA_FILE.matcher(p.getFileName().toString()).matches()) return false;
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isEmptyDir(Path dir) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            return !ds.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    /** Swaps the finished temp folder into place; the old folder is kept aside until the new one is in. */
    private static void install(Path tmp, Path out, boolean force) throws IOException {
        Path old = null;
        if (Files.exists(out)) {
            checkReplaceable(out, force);
            old = createSibling(out, ".old-");
            Files.delete(old);
            Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (old != null) Files.move(old, out, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        if (old != null) deleteQuietly(old);
    }

    /**
     * A new hidden folder beside {@code out}. Not Files.createTempDirectory: its 0700 permissions would become the
     * data folder's; this one gets the usual umask-derived permissions.
     */
    private static Path createSibling(Path out, String tag) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = out.resolveSibling("." + out.getFileName() + tag + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE));
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) return;
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // Best effort: a leftover hidden temp folder is harmless and never mistaken for data.
        }
    }

    private static String describe(List<Path> files) {
        return files.size() == 1 ? files.get(0).toString() : files.size() + " files starting with " + files.get(0);
    }
}
