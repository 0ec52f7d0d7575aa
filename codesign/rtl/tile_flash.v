`timescale 1ns/1ps
`default_nettype none
// Flash conversion for a bank of ADCS converters (codesign.adckinds "flash"): each has
// N = 2^BITS - 1 comparators against a fixed reference ladder, comparator j with the
// threshold j + 1 (in LSB above the bottom of the range), and all of them decide in the
// same cycle. `cmp` carries ADC a's thermometer code in bits [a*N +: N]. The code is the
// number of the top comparator that fires: a ones-to-zero edge detector marks it (1 of
// N) and an OR encoder makes it binary, about N gates per converter (the flash cost model
// in codesign/adckinds.py). For a thermometer without bubbles, which an ideal ladder
// always gives, that is the number of comparators that fire (ADCKind.convert).
// `go` high = one conversion this cycle, so `last` = go; `result` holds every ADC's code
// combinationally from `cmp`. The block keeps no state; `trial` is 0 (the thresholds are
// fixed). Same ports as tile_sar / tile_ramp (tile_adc selects one).
module tile_flash #(
    parameter integer ADCS = 4,
    parameter integer BITS = 3
) (
    input  wire                               clk,
    input  wire                               rst,
    input  wire                               go,
    input  wire [ADCS*((1 << BITS) - 1)-1:0]  cmp,
    output wire [ADCS*BITS-1:0]               trial,
    output wire [ADCS*BITS-1:0]               result,
    output wire                               last
);
    localparam integer N = (1 << BITS) - 1;

    assign trial = {ADCS*BITS{1'b0}};
    assign last  = go;
    wire unused_clk = &{1'b0, clk, rst};     // combinational: one cycle, nothing to hold

    genvar a, b, j;
    generate
        for (a = 0; a < ADCS; a = a + 1) begin : g_adc
            wire [N-1:0] therm = cmp[a*N +: N];
            // comparator j fires and comparator j + 1 (none above the top) does not
            wire [N-1:0] top = therm & ~{1'b0, therm[N-1:1]};
            for (b = 0; b < BITS; b = b + 1) begin : g_bit
                wire [N-1:0] sel;            // edges whose code j + 1 has bit b set
                for (j = 0; j < N; j = j + 1) begin : g_j
                    localparam integer CODE = j + 1;     // threshold of comparator j
                    if (((CODE >> b) & 1) != 0) begin : g_on
                        assign sel[j] = top[j];
                    end else begin : g_off
                        assign sel[j] = 1'b0;
                    end
                end
                assign result[a*BITS + b] = |sel;
            end
        end
    endgenerate
endmodule
`default_nettype wire
