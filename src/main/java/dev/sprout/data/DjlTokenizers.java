package dev.sprout.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Hugging Face tokenizers library, through DJL. DJL extracts the library's native code from its jar into a cache folder
 * on first use and would otherwise fetch and report things over the network: it is pointed at Sprout's own cache folder
 * ({@link CacheFolders#djl}) and kept offline, before its first class loads.
 */
final class DjlTokenizers {
    // Encode exactly the text: no BOS/EOS added (documents get their separator from prepare), no truncation to the
    // tokenizer's max_length (DJL's default is 512 tokens), no padding.
    private static final Map<String, String> OPTIONS = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
    private static boolean configured;

    private DjlTokenizers() {}

    /** Sets DJL's cache folder and offline mode; an explicit -DDJL_CACHE_DIR is kept. */
    static synchronized void configure() {
        if (configured) return;
        if (System.getProperty("DJL_CACHE_DIR") == null) System.setProperty("DJL_CACHE_DIR", CacheFolders.djl().toString());
        System.setProperty("ai.djl.offline", "true");
        // DJL logs through SLF4J, which Sprout does not bind: without this SLF4J prints three warning lines on first use
        if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "ERROR");
        configured = true;
    }

    /** Loads a tokenizer.json's bytes; {@code where} (the file) opens the error when the library refuses it. */
    static HuggingFaceTokenizer load(byte[] json, Path where) {
        configure();
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new DataException(where + ": the tokenizers library cannot load it (" + HfTokenizerJson.oneLine(e.getMessage()) + ")", e);
        } catch (UnsatisfiedLinkError e) {
            throw new DataException(where + ": the tokenizers library's native code does not load here (" + HfTokenizerJson.oneLine(e.getMessage()) + ")", e);
        }
    }
}
