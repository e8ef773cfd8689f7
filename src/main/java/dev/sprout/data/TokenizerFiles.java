package dev.sprout.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A tokenizer kept in a folder of its own use (a run folder, a Sprout export): {@code tokenizer_spec.json}, its description,
 * and for hf a copy of the tokenizer.json. Whatever happens to the data folder later, the folder decodes with the
 * vocabulary it was trained with.
 */
public final class TokenizerFiles {
    public static final String SPEC = "tokenizer_spec.json";

    private TokenizerFiles() {}

    /**
     * Writes the tokenizer's files into {@code dir}, each through a temporary file and a rename; the description last, so a
     * folder that has it has the whole tokenizer.
     *
     * @return the files written
     */
    public static List<Path> write(Path dir, Tokenizer t) throws IOException {
        List<Path> files = new ArrayList<>();
        if (t instanceof HfTokenizer hf) {
            Path copy = dir.resolve(HfTokenizer.FILE), tmp = dir.resolve(HfTokenizer.FILE + ".tmp");
            hf.writeFile(tmp);
            Files.move(tmp, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            files.add(copy);
        }
        Path spec = dir.resolve(SPEC), tmp = dir.resolve(SPEC + ".tmp");
        Files.writeString(tmp, t.spec().toJsonText(), StandardCharsets.UTF_8);
        Files.move(tmp, spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        files.add(spec);
        return files;
    }

    /** Whether {@code dir} keeps a tokenizer (folders from before runs kept theirs do not). */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(SPEC));
    }

    /** The tokenizer kept in {@code dir}; a DataException naming the file when it is missing or damaged. */
    public static Tokenizer read(Path dir) {
        Path spec = dir.resolve(SPEC);
        String json;
        try {
            json = Files.readString(spec, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new DataException(spec + ": not found");
        } catch (IOException e) {
            throw new DataException(spec + ": cannot read (" + e.getMessage() + ")", e);
        }
        return Tokenizers.fromSpec(TokenizerSpec.parse(json, spec.toString()), dir.resolve(HfTokenizer.FILE), spec.toString());
    }
}
