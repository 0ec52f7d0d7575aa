`timescale 1ns/1ps
`default_nettype none
// Current-controlled-oscillator conversion for a bank of ADCS converters (codesign.adckinds
// "cco": HERMES, Khaddam-Aljameh et al., JSSC 57(4) 2022; Le Gallo et al., Nature
// Electronics 2023). Each output line's current, copied by a mirror, sets its oscillator's
// frequency; the oscillator runs while the inputs are applied, so the number of its
// periods is the integrated charge. The oscillators are analog and run faster than the
// clock (HERMES: 300 ps/LSB at a 1 GHz main clock): the front end hands over, per clock
// cycle and ADC, the periods completed in that cycle on `edges` (a BITS-bit field per ADC,
// at most 2^BITS - 1 a cycle; more saturate the count anyway).
// `count` high (tile_mvm: the integration window) = add this cycle's edges to each ADC's
// BITS-bit counter, saturating at 2^BITS - 1. `go` high = the one conversion cycle after
// the window (codesign.adckinds Cco.conversion_cycles = 1): `last` is go, `result` holds
// the counts latched at the window's end, and the counters clear for the next window.
// `result` shows the running counts in every cycle; `trial` is 0 (no comparator trial).
module tile_cco #(
    parameter integer ADCS = 4,
    parameter integer BITS = 8
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 count,
    input  wire                 go,
    input  wire [ADCS*BITS-1:0] edges,
    output wire [ADCS*BITS-1:0] trial,
    output wire [ADCS*BITS-1:0] result,
    output wire                 last
);
    localparam [BITS-1:0] TOP = {BITS{1'b1}};        // full scale, 2^BITS - 1

    reg  [ADCS*BITS-1:0] cnt;       // oscillator periods counted in this window
    wire [ADCS*BITS-1:0] next;      // cnt + this cycle's edges, saturated

    genvar a;
    generate
        for (a = 0; a < ADCS; a = a + 1) begin : g_adc
            wire [BITS:0] sum = {1'b0, cnt[a*BITS +: BITS]} + {1'b0, edges[a*BITS +: BITS]};
            assign next[a*BITS +: BITS] = sum[BITS] ? TOP : sum[BITS-1:0];
        end
    endgenerate

    assign trial  = {ADCS*BITS{1'b0}};
    assign result = cnt;
    assign last   = go;

    always @(posedge clk) begin
        if (rst || go) begin
            cnt <= {ADCS*BITS{1'b0}};
        end else if (count) begin
            cnt <= next;
        end
    end
endmodule
`default_nettype wire
