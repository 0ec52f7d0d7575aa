`timescale 1ns/1ps
`default_nettype none
// The ADC control of a tile: the converter block of the spec's ADC kind (parameter
// ADC_KIND = codesign.adckinds RTL_CODES: 0 sar, 1 flash, 2 ramp, 3 cco), each with the
// same ports. Per cycle with `go` high the block takes its comparators' answers on `cmp`
// (CMPS per ADC: 2^BITS - 1 thermometer bits for a flash, else 1) and puts the next
// trial code on `trial`; `last` marks the cycle that ends a conversion, in which `result`
// holds every ADC's code. Cycles per conversion (codesign.adckinds conversion_cycles):
// sar BITS, flash 1, ramp 2^BITS - 1, cco 1. A cco counts during the integration window
// (`count` high) instead: its field of `cmp` (CMPS = BITS) carries the oscillator periods
// completed in that cycle; the other kinds ignore `count`.
module tile_adc #(
    parameter integer ADCS     = 4,
    parameter integer BITS     = 4,
    parameter integer ADC_KIND = 0,
    parameter integer CMPS     = 1     // per ADC: flash 2^BITS-1, cco BITS, else 1
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 count,     // integration window (cco: oscillators counted)
    input  wire                 go,
    input  wire [ADCS*CMPS-1:0] cmp,
    output wire [ADCS*BITS-1:0] trial,
    output wire [ADCS*BITS-1:0] result,
    output wire                 last
);
    generate
        if (ADC_KIND == 0) begin : g_sar
            tile_sar #(.ADCS(ADCS), .BITS(BITS)) u_sar (
                .clk(clk), .rst(rst), .go(go), .cmp(cmp), .trial(trial), .result(result),
                .last(last));
            wire unused_count = &{1'b0, count};   // converts after the window
        end else if (ADC_KIND == 1) begin : g_flash
            tile_flash #(.ADCS(ADCS), .BITS(BITS)) u_flash (
                .clk(clk), .rst(rst), .go(go), .cmp(cmp), .trial(trial), .result(result),
                .last(last));
            wire unused_count = &{1'b0, count};
        end else if (ADC_KIND == 2) begin : g_ramp
            tile_ramp #(.ADCS(ADCS), .BITS(BITS)) u_ramp (
                .clk(clk), .rst(rst), .go(go), .cmp(cmp), .trial(trial), .result(result),
                .last(last));
            wire unused_count = &{1'b0, count};
        end else if (ADC_KIND == 3) begin : g_cco
            tile_cco #(.ADCS(ADCS), .BITS(BITS)) u_cco (
                .clk(clk), .rst(rst), .count(count), .go(go), .edges(cmp), .trial(trial),
                .result(result), .last(last));
        end else begin : g_no_such_kind
            // an ADC_KIND without a block: elaboration stops here, naming the problem
            tile_adc_kind_has_no_rtl u_none ();
        end
    endgenerate
endmodule
`default_nettype wire
