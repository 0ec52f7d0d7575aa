`timescale 1ns/1ps
`default_nettype none
// One magnitude comparator per line, shared by the two commands that compare a line's
// magnitude |code| with something, which never run in the same cycle:
//   FORWARD/BACKWARD, pulse-width drive (tile_dac): the line is on while t < |code|,
//                     t the pulse counter of the integration window (sel_win 0);
//   UPDATE, stochastic (tile_update): the line fires while its LFSR window < |code|
//                     (sel_win 1, the update's slot cycles).
// A (DAC_BITS-1)-bit operand mux in front of one comparator replaces a second
// comparator per line; the comparisons are the same, so the result is bit-exact
// (docs/rtl.md). A spec that needs only one of them (another DAC encoding, or a
// deterministic update) gets the comparator without the mux, and one that needs neither
// none. lt is meaningful only in the cycles its user samples it (integ, slot).
module tile_linecmp #(
    parameter integer LINES        = 4,
    parameter integer DAC_BITS     = 4,
    parameter integer DAC_ENCODING = 1,   // 1 pulse_width: tile_dac compares t
    parameter integer UPDATE_MODE  = 0    // 0 stochastic: tile_update compares windows
) (
    input  wire                           sel_win,   // 1: the windows, 0: t
    input  wire [DAC_BITS-2:0]            t,
    input  wire [LINES*(DAC_BITS-1)-1:0]  win,
    input  wire [LINES*DAC_BITS-1:0]      codes,
    output wire [LINES-1:0]               lt
);
    localparam integer MW      = DAC_BITS - 1;
    localparam integer USE_T   = (DAC_ENCODING == 1) ? 1 : 0;
    localparam integer USE_WIN = (UPDATE_MODE == 0) ? 1 : 0;

    /* verilator lint_off UNUSED */
    wire unused = &{1'b0, sel_win, t, win, codes};   // the users a spec has not
    /* verilator lint_on UNUSED */

    genvar i;
    generate
        for (i = 0; i < LINES; i = i + 1) begin : g_line
            if (USE_T != 0 && USE_WIN != 0) begin : g_shared
                wire [MW-1:0] a = sel_win ? win[i*MW +: MW] : t;
                assign lt[i] = (a < codes[i*DAC_BITS +: MW]);
            end else if (USE_WIN != 0) begin : g_win
                assign lt[i] = (win[i*MW +: MW] < codes[i*DAC_BITS +: MW]);
            end else if (USE_T != 0) begin : g_t
                assign lt[i] = (t < codes[i*DAC_BITS +: MW]);
            end else begin : g_none
                assign lt[i] = 1'b0;
            end
        end
    endgenerate
endmodule
`default_nettype wire
