// Package density runs the conditional density estimation benchmark of the
// paper's Section 6.1 (theory §5): for each joint density (Tanh, Bimodal,
// Spiral) and forward process (VE, VP) it trains a conditional score network,
// draws x | y at four y values with the probability-flow ODE (adaptive
// Dormand–Prince) and the reverse SDE (Euler–Maruyama, alpha = 1), and scores
// the samples against the reference conditional with the entropic OT
// distance (Sinkhorn, reg 0.01): Table 2. It also builds Figures 2–4 and the
// accuracy-vs-NFE study; Figures() is its figure registry.
//
// Every stage reads and writes files, so a long run can stop and resume:
// models are model folders (lib/model), samples .npz files, the table
// Markdown + CSV + JSON. Hyper-parameters live in one place: Preset, resolved
// once from a preset name and recorded in table2.json.
package density
