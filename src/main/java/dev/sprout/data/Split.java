package dev.sprout.data;

/** The two halves of a prepared data folder: nanoGPT's rule puts the first tokens in TRAIN and the tail in VAL. */
public enum Split {
    TRAIN("train"),
    VAL("val");

    private final String key;

    Split(String key) {
        this.key = key;
    }

    /** The name used in meta.json and shard file names ("train", "val"). */
    public String key() {
        return key;
    }

    public static Split ofKey(String key) {
        for (Split s : values()) if (s.key.equals(key)) return s;
        throw new IllegalArgumentException("unknown split '" + key + "'");
    }
}
