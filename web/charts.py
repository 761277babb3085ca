"""A small bar chart drawn as inline SVG on the server: no chart library, works offline and in print."""
from markupsafe import Markup, escape


def participation_chart(rows, target, width=640, bar_height=26):
    """rows: [(name, percent)]; draws each bar against the target line."""
    label_width, gap = 150, 10
    plot = width - label_width - 60
    height = len(rows) * (bar_height + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" '
             f'aria-label="participation by branch" width="100%">']
    for i, (name, percent) in enumerate(rows):
        y = i * (bar_height + gap) + 10
        w = plot * min(percent, 100) / 100
        colour = '#16a34a' if percent >= target else '#d97706'
        parts.append(f'<text x="{label_width - 8}" y="{y + bar_height * 0.68}" text-anchor="end" font-size="13">'
                     f'{escape(name)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="#eef2f7" rx="4"/>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{colour}" rx="4"/>')
        parts.append(f'<text x="{label_width + plot + 6}" y="{y + bar_height * 0.68}" font-size="13">{percent}%</text>')
    x = label_width + plot * target / 100
    parts.append(f'<line x1="{x}" y1="4" x2="{x}" y2="{height - 18}" stroke="#111" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x}" y="{height - 4}" text-anchor="middle" font-size="12">{target}%</text>')
    parts.append('</svg>')
    return Markup(''.join(parts))
