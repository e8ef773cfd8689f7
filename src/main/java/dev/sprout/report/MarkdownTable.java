package dev.sprout.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A GitHub-flavoured markdown table: named columns, left-aligned (text) or right-aligned (numbers), rows of plain cell
 * text. Cells are escaped here (a '|' would end the cell, a newline the row), so callers pass what they mean to show.
 */
final class MarkdownTable {
    private final List<String> headers = new ArrayList<>();
    private final List<Boolean> rightAligned = new ArrayList<>();
    private final List<List<String>> rows = new ArrayList<>();

    /** Adds a left-aligned column. */
    MarkdownTable text(String header) {
        headers.add(header);
        rightAligned.add(false);
        return this;
    }

    /** Adds a right-aligned column (numbers line up on their last digit). */
    MarkdownTable number(String header) {
        headers.add(header);
        rightAligned.add(true);
        return this;
    }

    /** Adds a row, one cell per column. */
    MarkdownTable row(String... cells) {
        if (cells.length != headers.size()) throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        rows.add(List.of(cells));
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    int columns() {
        return headers.size();
    }

    /** The table's lines, each ending in a newline. */
    String render() {
        StringBuilder sb = new StringBuilder();
        line(sb, headers);
        sb.append('|');
        for (boolean right : rightAligned) sb.append(right ? "---:|" : "---|");
        sb.append('\n');
        for (List<String> r : rows) line(sb, r);
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells) {
        sb.append('|');
        for (String c : cells) sb.append(c.isEmpty() ? " |" : " " + escape(c) + " |");
        sb.append('\n');
    }

    /** Escapes what would break the table's structure; an empty cell stays empty. */
    static String escape(String cell) {
        return cell.replace("|", "\\|").replace("\n", " ");
    }
}
