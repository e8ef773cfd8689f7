package dev.sprout.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * HTML for the markdown that {@link ReportMarkdown} writes, and only that: ATX headings, paragraphs, "- " bullet lists,
 * pipe tables with an alignment row, fenced code blocks, and inline code, bold, links and images. Every piece of text is
 * escaped, so nothing in a config name or a path can become markup. Not a general markdown converter: what the report
 * never writes (emphasis with one '*', nested lists, raw HTML) is shown as the text it is.
 */
final class MarkdownHtml {
    private MarkdownHtml() {}

    /**
     * The body's HTML.
     *
     * @param imageSrc an image's target in the markdown to the value of its src attribute, or null to leave the image out
     *                 (its alt text is shown instead); a link to a target it resolves points where the image would
     */
    static String toHtml(String markdown, Function<String, String> imageSrc) {
        return new Converter(imageSrc).convert(markdown);
    }

    private static final class Converter {
        private final Function<String, String> imageSrc;
        private final StringBuilder html = new StringBuilder();
        private final List<String> paragraph = new ArrayList<>();
        private boolean inList;
        private final java.util.Set<String> ids = new java.util.HashSet<>();

        Converter(Function<String, String> imageSrc) {
            this.imageSrc = imageSrc;
        }

        String convert(String markdown) {
            String[] lines = markdown.replace("\r\n", "\n").split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i];
                if (line.startsWith("```")) {
                    closeBlocks();
                    int end = i + 1;
                    while (end < lines.length && !lines[end].startsWith("```")) end++;
                    html.append("<pre><code>");
                    for (int k = i + 1; k < end; k++) html.append(escape(lines[k])).append(k + 1 < end ? "\n" : "");
                    html.append("</code></pre>\n");
                    i = end;
                } else if (line.isBlank()) {
                    closeBlocks();
                } else if (headingLevel(line) > 0) {
                    closeBlocks();
                    int level = headingLevel(line);
                    String text = line.substring(level + 1).strip();
                    html.append("<h").append(level).append(" id=\"").append(uniqueId(slug(text))).append("\">").append(inline(text))
                            .append("</h").append(level).append(">\n");
                } else if (line.startsWith("- ")) {
                    closeParagraph();
                    if (!inList) html.append("<ul>\n");
                    inList = true;
                    html.append("<li>").append(inline(line.substring(2).strip())).append("</li>\n");
                } else if (line.startsWith("|") && i + 1 < lines.length && isAlignmentRow(lines[i + 1])) {
                    closeBlocks();
                    int end = i + 2;
                    while (end < lines.length && lines[end].startsWith("|")) end++;
                    table(lines[i], lines[i + 1], List.of(lines).subList(i + 2, end));
                    i = end - 1;
                } else {
                    if (inList) closeBlocks();
                    paragraph.add(line.strip());
                }
            }
            closeBlocks();
            return html.toString();
        }

        /** {@code id}, or id-2, id-3 ... when a heading of the same text came before ("How to read this" recurs). */
        private String uniqueId(String id) {
            String unique = id;
            for (int n = 2; !ids.add(unique); n++) unique = id + "-" + n;
            return unique;
        }

        private void closeBlocks() {
            closeParagraph();
            if (inList) html.append("</ul>\n");
            inList = false;
        }

        private void closeParagraph() {
            if (paragraph.isEmpty()) return;
            html.append("<p>").append(inline(String.join(" ", paragraph))).append("</p>\n");
            paragraph.clear();
        }

        private void table(String header, String alignment, List<String> body) {
            List<String> heads = cells(header);
            List<Boolean> right = cells(alignment).stream().map(a -> a.endsWith(":")).toList();
            html.append("<div class=\"table\"><table>\n<thead><tr>");
            for (int c = 0; c < heads.size(); c++) html.append(cellTag("th", right, c)).append(inline(heads.get(c))).append("</th>");
            html.append("</tr></thead>\n<tbody>\n");
            for (String row : body) {
                List<String> cells = cells(row);
                html.append("<tr>");
                for (int c = 0; c < heads.size(); c++)
                    html.append(cellTag("td", right, c)).append(c < cells.size() ? inline(cells.get(c)) : "").append("</td>");
                html.append("</tr>\n");
            }
            html.append("</tbody></table></div>\n");
        }

        private static String cellTag(String tag, List<Boolean> right, int column) {
            return column < right.size() && right.get(column) ? "<" + tag + " class=\"num\">" : "<" + tag + ">";
        }

        /** A linked or inlined image, a link, bold and code spans; everything else escaped. */
        private String inline(String s) {
            StringBuilder out = new StringBuilder();
            boolean bold = false;
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length() && "\\`*_[]()#+-.!|".indexOf(s.charAt(i + 1)) >= 0) {
                    out.append(escape(String.valueOf(s.charAt(i + 1))));
                    i += 2;
                } else if (c == '`' && s.indexOf('`', i + 1) > i) {
                    int end = s.indexOf('`', i + 1);
                    out.append("<code>").append(escape(s.substring(i + 1, end))).append("</code>");
                    i = end + 1;
                } else if (s.startsWith("**", i)) {
                    out.append(bold ? "</strong>" : "<strong>");
                    bold = !bold;
                    i += 2;
                } else if ((s.startsWith("![", i) || c == '[') && linkEnd(s, i) > 0) {
                    boolean image = c == '!';
                    int textStart = i + (image ? 2 : 1), close = s.indexOf("](", textStart), end = linkEnd(s, i);
                    String text = s.substring(textStart, close), target = s.substring(close + 2, end);
                    String src = imageSrc.apply(target);
                    if (image) {
                        out.append(src == null ? "<span class=\"missing\">[" + escape(text) + ": not drawn]</span>"
                                : "<img src=\"" + escape(src) + "\" alt=\"" + escape(text) + "\">");
                    } else {
                        // a page that opens from the file system points nowhere else: in-page anchors and inlined files only
                        String href = src != null ? src : target.startsWith("#") ? target : null;
                        out.append(href == null ? inline(text) + " (" + escape(target) + ")"
                                : "<a href=\"" + escape(href) + "\">" + inline(text) + "</a>");
                    }
                    i = end + 1;
                } else {
                    out.append(escape(String.valueOf(c)));
                    i++;
                }
            }
            if (bold) out.append("</strong>"); // an unpaired ** must not leave the rest of the page bold
            return out.toString();
        }
    }

    /** Where "[text](target)" or "![alt](target)" starting at {@code i} ends (its ')'), or -1 when it is not one. */
    private static int linkEnd(String s, int i) {
        int textStart = s.startsWith("![", i) ? i + 2 : i + 1;
        int close = s.indexOf("](", textStart);
        if (close < 0 || s.substring(textStart, close).contains("[")) return -1;
        int end = s.indexOf(')', close + 2);
        if (end < 0 || s.substring(close + 2, end).contains(" ")) return -1;
        return end;
    }

    /** 1 to 6 for "# ", "## " ... "###### ", else 0. */
    private static int headingLevel(String line) {
        int n = 0;
        while (n < line.length() && line.charAt(n) == '#') n++;
        return n >= 1 && n <= 6 && line.length() > n && line.charAt(n) == ' ' ? n : 0;
    }

    /** "|---|---:|" and the like. */
    private static boolean isAlignmentRow(String line) {
        return line.startsWith("|") && line.matches("\\|( *:?-+:? *\\|)+ *");
    }

    /** A table row's cells, split at the '|'s that are not escaped, each stripped; "\|" stays for {@link Converter#inline}. */
    static List<String> cells(String row) {
        String r = row.strip();
        if (r.startsWith("|")) r = r.substring(1);
        if (r.endsWith("|") && !r.endsWith("\\|")) r = r.substring(0, r.length() - 1);
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        for (int i = 0; i < r.length(); i++) {
            char c = r.charAt(i);
            if (c == '\\' && i + 1 < r.length() && r.charAt(i + 1) == '|') {
                cell.append("\\|");
                i++;
            } else if (c == '|') {
                cells.add(cell.toString().strip());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString().strip());
        return cells;
    }

    /** A heading's anchor: lower case, runs of anything but letters and digits as one '-'. */
    static String slug(String heading) {
        String s = heading.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", "-");
        return s.replaceAll("^-+|-+$", "");
    }

    /** Text and attribute values: the five characters that could start or end markup. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
