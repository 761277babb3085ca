// Renders the state diagrams (<pre class="mermaid">) with the vendored mermaid.js; no network needed.
document.addEventListener('DOMContentLoaded', function () {
  if (window.mermaid && document.querySelector('pre.mermaid')) {
    window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral',
                                state: { useMaxWidth: false } });
    window.mermaid.run({ querySelector: 'pre.mermaid' }).then(function () {
      // Bring the highlighted current state into view inside a wide diagram (phones especially).
      document.querySelectorAll('.diagram').forEach(function (box) {
        var current = box.querySelector('g.current, .current');
        if (!current) { return; }
        var boxRect = box.getBoundingClientRect(), nodeRect = current.getBoundingClientRect();
        box.scrollLeft += nodeRect.left - boxRect.left - (boxRect.width - nodeRect.width) / 2;
      });
    });
  }
  // "Select all" in the inbox's bulk approval.
  var all = document.getElementById('select-all');
  if (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input[name=items]').forEach(function (box) { box.checked = all.checked; });
    });
  }
});
