package dev.sprout.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sprout.train.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html as a real browser shows it: headless Chromium loads the page from the file system, its DOM holds the
 * verdict lines and the inlined plots, and its screenshot (kept as target/report-html-screenshot.png for a person to
 * look at) is a picture with content. Skipped where /usr/bin/chromium is not installed.
 */
class ReportHtmlBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    /** A browser that has not finished by then is stuck (it takes a few seconds): killed, and the test fails. */
    static final long TIMEOUT_S = 60;
    static final Path SCREENSHOT = Path.of("target", "report-html-screenshot.png");
    /** The comparison folder the test renders, kept beside the screenshot so a person can open its report.html. */
    static final Path SAMPLE = Path.of("target", "report-html-sample");

    @TempDir
    Path tmp;

    @Test
    void chromiumRendersTheVerdictsAndThePlots() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is not installed");
        CompareReport report = sampleComparison(tmp.resolve("runs"));
        deleteTree(SAMPLE);
        ComparePlots.write(report, SAMPLE);
        String md = report.markdown(new CompareReport.Context("/data/tinyshakespeare", "sprout compare --config configs/compare/subnet/baseline.yaml "
                + "--config configs/compare/subnet/est.yaml --config configs/compare/subnet/raptr.yaml --config configs/compare/growth/gradual-stacking.yaml "
                + "--data /data/tinyshakespeare --out runs/compare --seeds 1,2,3", false, true));
        AtomicFiles.write(SAMPLE.resolve("report.md"), md);
        Path html = SAMPLE.resolve(HtmlReport.FILE).toAbsolutePath();
        AtomicFiles.write(html, HtmlReport.render(md, SAMPLE));

        String dom = chromium(html, "dom", "--dump-dom");
        assertTrue(dom.contains("<h2 id=\"verdicts\">Verdicts</h2>"), dom);
        List<CompareReport.Row> rows = report.rows();
        for (CompareReport.Row row : rows.subList(1, rows.size())) {
            String li = "<li>" + asDom(VerdictLine.of(row)) + "</li>";
            assertTrue(dom.contains(li), li + " in the rendered page: " + dom);
        }
        Matcher img = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(dom);
        int images = 0;
        for (; img.find(); images++) {
            byte[] png = Base64.getDecoder().decode(img.group(1));
            assertTrue(isPng(png), "image " + images + " decodes to a PNG");
            BufferedImage picture = ImageIO.read(new ByteArrayInputStream(png));
            assertEquals(ComparePlots.WIDTH, picture.getWidth());
        }
        assertEquals(CompareReport.PLOTS.size(), images, "every plot inlined");

        Path shot = tmp.resolve("screenshot.png");
        chromium(html, "shot", "--screenshot=" + shot, "--window-size=1280,2000");
        Files.createDirectories(SCREENSHOT.getParent());
        Files.copy(shot, SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
        byte[] bytes = Files.readAllBytes(SCREENSHOT);
        assertTrue(isPng(bytes) && bytes.length > 50_000, "a PNG with content, " + bytes.length + " bytes");
        BufferedImage page = ImageIO.read(SCREENSHOT.toFile());
        assertEquals(1280, page.getWidth());
        assertEquals(2000, page.getHeight());
        // text, tables and the first plot: well short of a blank page, and more than a handful of colours
        int inked = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < page.getHeight(); y += 2) {
            for (int x = 0; x < page.getWidth(); x += 2) {
                int rgb = page.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                if (rgb != 0xffffff) inked++;
            }
        }
        double share = inked / (page.getWidth() / 2.0 * page.getHeight() / 2.0);
        assertTrue(share > 0.05, "share of the page that is not white: " + share);
        assertTrue(colours.size() > 50, colours.size() + " colours");
    }

    /**
     * Runs the browser on the page with {@code args}, as the brief for this check gives the command, in a profile of its
     * own; returns what it printed. Killed with its child processes when it outlives {@link #TIMEOUT_S}.
     */
    private String chromium(Path html, String name, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createTempDirectory(tmp, "profile-" + name)));
        cmd.addAll(Arrays.asList(args));
        cmd.add(html.toUri().toString());
        Path out = tmp.resolve(name + ".out"), err = tmp.resolve(name + ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            List<ProcessHandle> children = p.descendants().toList(); // before the parent goes, while they are still its
            p.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
            p.waitFor(10, TimeUnit.SECONDS);
            fail("chromium " + String.join(" ", args) + " did not finish within " + TIMEOUT_S + " s: " + tail(err));
        }
        assertEquals(0, p.exitValue(), "chromium " + String.join(" ", args) + ": " + tail(err));
        return Files.readString(out);
    }

    private static String tail(Path f) throws IOException {
        String s = Files.readString(f);
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }

    /** A verdict line as the browser serialises it: text escaped (&, <, >), **bold** as strong elements. */
    private static String asDom(String markdown) {
        String text = markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        return text.replaceAll("\\*\\*(.+?)\\*\\*", "<strong>$1</strong>");
    }

    private static boolean isPng(byte[] bytes) {
        byte[] magic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        return bytes.length > 8 && Arrays.equals(magic, Arrays.copyOf(bytes, 8));
    }

    /**
     * A comparison like the subnetwork protocol's, three seeds: a baseline whose curve flattens, EST and RaPTr at about
     * 0.73x its FLOPs behind it, and gradual stacking growing 4-6-8 on to 1.5x, ahead at equal compute.
     */
    static CompareReport sampleComparison(Path dir) throws IOException {
        List<String> configs = List.of("baseline", "est", "raptr", "gradual-stacking");
        List<Long> seeds = List.of(1L, 2L, 3L);
        List<List<RunResult>> runs = new ArrayList<>();
        for (String config : configs) {
            List<RunResult> round = new ArrayList<>();
            for (long seed : seeds) round.add(RunResult.read(config, seed, sampleRun(config, seed).write(dir.resolve(config + "-seed" + seed))));
            runs.add(round);
        }
        return new CompareReport(configs, seeds, runs);
    }

    private static SyntheticRun sampleRun(String config, long seed) {
        String method = switch (config) {
            case "gradual-stacking" -> "stacking";
            default -> config;
        };
        SyntheticRun run = SyntheticRun.of(method).seed(seed);
        int evals = config.equals("gradual-stacking") ? 60 : 40;
        double flopsPerStep = switch (config) {
            case "est" -> 0.73e8;
            case "raptr" -> 0.72e8;
            default -> 1e8;
        };
        double floor = switch (config) {
            case "est" -> 1.70;
            case "raptr" -> 1.66;
            default -> 1.60;
        };
        double flops = 0;
        for (int i = 1; i <= evals; i++) {
            long step = 10L * i;
            // stacking's early stages run fewer blocks: 4 of 8, then 6 of 8, then all
            double share = !config.equals("gradual-stacking") ? 1 : i <= 10 ? 0.5 : i <= 20 ? 0.75 : 1;
            flops += 10 * flopsPerStep * share;
            double progress = config.equals("gradual-stacking") ? flops / 1e8 / 10 * 1.15 : flops / 1e8 / 10 / (flopsPerStep / 1e8);
            double loss = floor + 1.6 * Math.exp(-progress / 7.0) + 0.012 * Math.sin(seed * 1.7 + i * 0.9);
            String stage = switch (config) {
                case "est", "raptr" -> i <= 12 ? "1" : i <= 24 ? "2" : "3";
                case "gradual-stacking" -> i <= 10 ? "4" : i <= 20 ? "6" : "8";
                default -> null;
            };
            run.eval(step, flops, flops / 1e8 * 0.05, loss, stage);
        }
        return run;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
