`timescale 1ns/1ps
`default_nettype none
// Output buffer: one signed word per output line (COLS after FORWARD, ROWS after
// BACKWARD). Line l is converted by ADC l % ADCS in mux group l / ADCS, so every line
// has a fixed source (no run-time address decode on the write side).
// The ADC code c (offset binary) is the signed value s = c - 2^(ADC_BITS-1).
// amplitude / pulse_width: word = s.  bit_serial: word = sum_k (s_k << k) over the
// phases k (shift-and-add of the signed partial results, LSB phase first).
module tile_obuf #(
    parameter integer WORDS        = 4,    // max(ROWS, COLS)
    parameter integer ROWS         = 4,
    parameter integer COLS         = 4,
    parameter integer ADCS         = 2,
    parameter integer ADC_BITS     = 4,
    parameter integer OUT_BITS     = 4,
    parameter integer BIT_SERIAL   = 0,
    parameter integer GW           = 1,
    parameter integer PW           = 1,
    parameter integer AW           = 2     // read address width
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     we,        // last cycle of a group's conversion
    input  wire                     dir,       // 0: lines are columns, 1: rows
    input  wire [GW-1:0]            group,
    input  wire [PW-1:0]            phase,
    input  wire [ADCS*ADC_BITS-1:0] codes,
    input  wire [AW-1:0]            raddr,
    output wire [OUT_BITS-1:0]      rdata
);
    localparam integer EXT = OUT_BITS - ADC_BITS;    // sign-extension bits (>= 0)
    reg [WORDS*OUT_BITS-1:0] mem;

    genvar l;
    generate
        for (l = 0; l < WORDS; l = l + 1) begin : g_word
            localparam integer A = l % ADCS;
            localparam integer G_I = l / ADCS;
            localparam [GW-1:0] G = G_I[GW-1:0];
            wire [ADC_BITS-1:0] c = codes[A*ADC_BITS +: ADC_BITS];
            // c - 2^(ADC_BITS-1): flip the MSB of the offset-binary code
            wire [ADC_BITS-1:0] s = {~c[ADC_BITS-1], c[ADC_BITS-2:0]};
            wire [OUT_BITS-1:0] s_ext;
            if (EXT > 0) begin : g_ext
                assign s_ext = {{EXT{s[ADC_BITS-1]}}, s};
            end else begin : g_noext
                assign s_ext = s;
            end
            wire in_range = dir ? (l < ROWS) : (l < COLS);
            wire hit = we && in_range && (group == G);
            wire [OUT_BITS-1:0] word = mem[l*OUT_BITS +: OUT_BITS];
            wire [OUT_BITS-1:0] next;
            if (BIT_SERIAL != 0) begin : g_acc
                assign next = ((phase == {PW{1'b0}}) ? {OUT_BITS{1'b0}} : word)
                              + (s_ext << phase);
            end else begin : g_set
                assign next = s_ext;
                wire unused_acc = &{1'b0, word};   // only bit-serial accumulates
            end
            always @(posedge clk) begin
                if (rst)
                    mem[l*OUT_BITS +: OUT_BITS] <= {OUT_BITS{1'b0}};
                else if (hit)
                    mem[l*OUT_BITS +: OUT_BITS] <= next;
            end
        end
    endgenerate

    generate
        if (BIT_SERIAL == 0) begin : g_no_phase
            wire unused_phase = &{1'b0, phase};
        end
    endgenerate

    assign rdata = mem[raddr*OUT_BITS +: OUT_BITS];
endmodule
`default_nettype wire
