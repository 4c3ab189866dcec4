// Arabic (and Hebrew) terms inside YAML lines: each right-to-left run is an isolate of its own,
// so the browser lays it out right to left while the line's YAML punctuation ("- ", "[", ",",
// ":") stays in left-to-right order around it, and CodeMirror moves the cursor through it in
// visual order (bidiIsolatedRanges).
import { RangeSetBuilder } from "@codemirror/state";
import { Decoration, Direction, EditorView, ViewPlugin } from "@codemirror/view";

const RTL = "\\u0590-\\u08FF\\uFB1D-\\uFDFF\\uFE70-\\uFEFC";
// A run starts and ends with a right-to-left letter; spaces, digits and Arabic punctuation
// inside it belong to the term ("قاعدة كركوك", "القرار 2334").
const RUN = new RegExp(`[${RTL}](?:[${RTL}\\s\\d\\u060C\\u061B\\u061F]*[${RTL}])?`, "g");

const rtlMark = Decoration.mark({
  class: "cm-rtl",
  attributes: { dir: "rtl" },
  bidiIsolate: Direction.RTL,
});

function rtlRuns(view) {
  const builder = new RangeSetBuilder();
  for (const { from, to } of view.visibleRanges) {
    for (let pos = from; pos <= to; ) {
      const line = view.state.doc.lineAt(pos);
      for (const m of line.text.matchAll(RUN)) {
        builder.add(line.from + m.index, line.from + m.index + m[0].length, rtlMark);
      }
      pos = line.to + 1;
    }
  }
  return builder.finish();
}

const rtlPlugin = ViewPlugin.fromClass(
  class {
    constructor(view) {
      this.decorations = rtlRuns(view);
    }
    update(update) {
      if (update.docChanged || update.viewportChanged) this.decorations = rtlRuns(update.view);
    }
  },
  {
    decorations: (plugin) => plugin.decorations,
    provide: (plugin) =>
      EditorView.bidiIsolatedRanges.of((view) => view.plugin(plugin)?.decorations ?? Decoration.none),
  },
);

export function rtlTerms() {
  return rtlPlugin;
}
