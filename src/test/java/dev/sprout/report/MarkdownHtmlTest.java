package dev.sprout.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The markdown report.md is written in, as HTML; and report.html's page around it. */
class MarkdownHtmlTest {
    @TempDir
    Path tmp;

    private static String html(String md) {
        return MarkdownHtml.toHtml(md, Map.of("plot.png", "data:image/png;base64,AAAA")::get);
    }

    @Test
    void blocks() {
        String md = """
                # Sprout compare: a vs b

                - Data: `/data/x`
                - **2 run(s) missing**: see Runs

                ## Results

                ### How to read this

                A paragraph
                over two lines.

                ```
                sprout compare --config 'a b.yaml' > out
                ```
                """;
        assertEquals("""
                <h1 id="sprout-compare-a-vs-b">Sprout compare: a vs b</h1>
                <ul>
                <li>Data: <code>/data/x</code></li>
                <li><strong>2 run(s) missing</strong>: see Runs</li>
                </ul>
                <h2 id="results">Results</h2>
                <h3 id="how-to-read-this">How to read this</h3>
                <p>A paragraph over two lines.</p>
                <pre><code>sprout compare --config &#39;a b.yaml&#39; &gt; out</code></pre>
                """, html(md));
    }

    @Test
    void tablesKeepTheirAlignmentAndEscapedPipes() {
        String md = """
                | config | final val loss | reach |
                |---|---:|---|
                | a\\|b | 1.9000 ± 0.0707 | `run` |
                | c | | |
                """;
        assertEquals("""
                <div class="table"><table>
                <thead><tr><th>config</th><th class="num">final val loss</th><th>reach</th></tr></thead>
                <tbody>
                <tr><td>a|b</td><td class="num">1.9000 ± 0.0707</td><td><code>run</code></td></tr>
                <tr><td>c</td><td class="num"></td><td></td></tr>
                </tbody></table></div>
                """, html(md));
        assertEquals(List.of("a\\|b", "1", ""), MarkdownHtml.cells("| a\\|b | 1 | |"));
    }

    @Test
    void imagesAndLinks() {
        assertEquals("<p><img src=\"data:image/png;base64,AAAA\" alt=\"val loss\"></p>\n", html("![val loss](plot.png)"));
        assertEquals("<p><span class=\"missing\">[val loss: not drawn]</span></p>\n", html("![val loss](gone.png)"),
                "a plot that is not there is said, not referenced");
        assertEquals("<p>see <a href=\"data:image/png;base64,AAAA\">the plot</a> and <a href=\"#runs\">Runs</a></p>\n",
                html("see [the plot](plot.png) and [Runs](#runs)"));
        assertEquals("<p>docs (https://example.org/x)</p>\n", html("[docs](https://example.org/x)"), "nothing points off the page");
    }

    @Test
    void textNeverBecomesMarkup() {
        String out = html("- **<script>alert(1)</script>**: a & b, \"c\" <img src=x onerror=alert(1)>\n\n| `<b>` | x |\n|---|---|\n| <i> | y |\n");
        assertFalse(out.contains("<script") || out.contains("<img") || out.contains("<b>") || out.contains("<i>"), out);
        assertTrue(out.contains("<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>: a &amp; b, &quot;c&quot;"), out);
        assertTrue(html("an unpaired ** bold").endsWith("bold</strong></p>\n"), "closed at the end of its block");
        assertEquals("<h3 id=\"how-to-read-this\">How to read this</h3>\n<h3 id=\"how-to-read-this-2\">How to read this</h3>\n",
                html("### How to read this\n\n### How to read this\n"), "ids stay unique");
    }

    @Test
    void thePageInlinesThePlotsAndLoadsNothing() throws IOException {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3};
        Files.write(tmp.resolve(CompareReport.FLOPS_PLOT), png);
        Files.writeString(tmp.resolve("notes.txt"), "x");
        String page = HtmlReport.render("# Sprout compare: a vs b\n\n![val loss vs FLOPs](" + CompareReport.FLOPS_PLOT + ")\n\n"
                + "![zoom](" + CompareReport.FLOPS_ZOOM_PLOT + ")\n\n![notes](notes.txt)\n\n![up](../x.png)\n", tmp);
        assertTrue(page.startsWith("<!DOCTYPE html>"), page);
        assertTrue(page.contains("<title>Sprout compare: a vs b</title>"), page);
        assertTrue(page.contains("content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\""), "the page may load nothing: " + page);
        assertTrue(page.contains("<img src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(png) + "\""), page);
        assertTrue(page.contains("[zoom: not drawn]") && page.contains("[notes: not drawn]") && page.contains("[up: not drawn]"), page);
        assertFalse(page.contains("<script") || page.contains("http://") || page.contains("https://") || page.contains("src=\"val_loss"), page);
        assertFalse(page.contains("<link"), "styles inline");
    }
}
