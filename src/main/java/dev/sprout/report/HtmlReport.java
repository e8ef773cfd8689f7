package dev.sprout.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * report.html: report.md as one self-contained page, to open from the file system or mail as it is. The plots are
 * inlined as base64 data: URIs and the styles as a style element; there is no script, and the page's content security
 * policy forbids loading anything from anywhere (images from data: URIs only), so a browser opening it makes no request.
 */
public final class HtmlReport {
    public static final String FILE = "report.html";

    private HtmlReport() {}

    /** The page for {@code markdown} (report.md's text), its images read from {@code dir}, the comparison folder. */
    public static String render(String markdown, Path dir) {
        String body = MarkdownHtml.toHtml(markdown, target -> dataUri(dir, target));
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<title>" + MarkdownHtml.escape(title(markdown)) + "</title>\n<style>\n" + CSS + "</style>\n</head>\n<body>\n<main>\n"
                + body + "</main>\n</body>\n</html>\n";
    }

    /** The first "# " heading's text, for the window title. */
    private static String title(String markdown) {
        for (String line : markdown.split("\n")) if (line.startsWith("# ")) return line.substring(2).strip();
        return "Sprout compare";
    }

    /**
     * A PNG beside the report as a data: URI; null for anything else (a missing plot, a path leaving the folder, another
     * kind of file), which the page then shows as text rather than as a reference to a file.
     */
    static String dataUri(Path dir, String target) {
        if (!target.endsWith(".png") || target.contains("/") || target.contains("\\") || target.contains(":")) return null;
        Path file = dir.resolve(target);
        if (!Files.isRegularFile(file)) return null;
        try {
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static final String CSS = """
            body { margin: 0; background: #fff; color: #1b1f24;
                   font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
            main { max-width: 1100px; margin: 0 auto; padding: 20px 32px 48px; }
            h1 { font-size: 1.55em; margin: 0.2em 0 0.5em; }
            h2 { font-size: 1.25em; margin: 1.8em 0 0.6em; padding-bottom: 0.2em; border-bottom: 1px solid #d8dee4; }
            h3 { font-size: 1.03em; margin: 1.3em 0 0.4em; }
            p, li { max-width: 62em; }
            ul { padding-left: 1.4em; }
            h2#verdicts + ul { background: #f3f7fc; border-left: 4px solid #1f77b4; margin: 0; padding: 0.6em 1em 0.6em 2.2em; }
            h2#verdicts + ul li { margin: 0.25em 0; }
            .table { overflow-x: auto; margin: 0.3em 0 1em; }
            table { border-collapse: collapse; font-size: 14px; }
            th, td { border: 1px solid #d0d7de; padding: 4px 10px; vertical-align: top; text-align: left; }
            th { background: #f1f4f7; font-weight: 600; }
            .num { text-align: right; font-variant-numeric: tabular-nums; }
            td:first-child { white-space: nowrap; }
            tbody tr:nth-child(even) td { background: #f9fafb; }
            code { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.9em;
                   background: #f1f4f7; padding: 0.05em 0.3em; border-radius: 3px; }
            pre { background: #f1f4f7; padding: 10px 14px; border-radius: 4px; overflow-x: auto; }
            pre code { background: none; padding: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
            img { display: block; max-width: 100%; height: auto; border: 1px solid #e4e7eb; }
            .missing { color: #8a5a00; }
            """;
}
