package dev.sprout.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.bytedeco.pytorch.Tensor;

/** Lets tests in other packages read the golden files the same way. */
public final class GoldenParityTestAccess {
    private GoldenParityTestAccess() {}

    public static JsonNode golden(String name) throws IOException {
        return GoldenParityTest.golden(name);
    }

    public static Tensor tensor(JsonNode t) {
        return GoldenParityTest.tensor(t);
    }
}
