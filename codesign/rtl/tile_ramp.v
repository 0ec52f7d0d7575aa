`timescale 1ns/1ps
`default_nettype none
// Counting conversion for a bank of ADCS converters (codesign.adckinds "ramp": a
// single-slope ramp, or a current-controlled oscillator as in HERMES, Khaddam-Aljameh et
// al., JSSC 2022). One conversion takes N = 2^BITS - 1 cycles. In cycle k = 1 .. N the
// shared ramp stands at threshold k, which goes out on every ADC's `trial` field; each
// converter's comparator answers on `cmp` (1 iff the sampled value >= threshold k; for a
// CCO: one more oscillator edge) and its BITS-bit counter counts the cycles in which it
// fires. `go` high = one ramp step this cycle. `last` marks step N; in that cycle
// `result` holds every ADC's final count (with step N's answer added), and the ramp
// restarts at 1 for the next conversion. A count never exceeds the step, so it fits.
module tile_ramp #(
    parameter integer ADCS = 4,
    parameter integer BITS = 3
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 go,
    input  wire [ADCS-1:0]      cmp,
    output wire [ADCS*BITS-1:0] trial,
    output wire [ADCS*BITS-1:0] result,
    output wire                 last
);
    localparam [BITS-1:0] FIRST = {{(BITS - 1){1'b0}}, 1'b1};
    localparam [BITS-1:0] TOP   = {BITS{1'b1}};      // step N = 2^BITS - 1

    reg [BITS-1:0]      step;       // ramp threshold this cycle, 1 .. N
    reg [ADCS*BITS-1:0] count;      // cycles each comparator fired so far

    genvar a;
    generate
        for (a = 0; a < ADCS; a = a + 1) begin : g_adc
            assign trial[a*BITS +: BITS]  = step;
            assign result[a*BITS +: BITS] = count[a*BITS +: BITS]
                                            + {{(BITS - 1){1'b0}}, cmp[a]};
        end
    endgenerate

    assign last = go && (step == TOP);

    always @(posedge clk) begin
        if (rst) begin
            step  <= FIRST;
            count <= {ADCS*BITS{1'b0}};
        end else if (go) begin
            if (last) begin
                step  <= FIRST;
                count <= {ADCS*BITS{1'b0}};
            end else begin
                step  <= step + 1'b1;
                count <= result;
            end
        end
    end
endmodule
`default_nettype wire
