`timescale 1ns/1ps
`default_nettype none
// Input sequencing for LINES word lines (rows in FORWARD, columns in BACKWARD).
// Codes are sign-magnitude: bit DAC_BITS-1 is the sign, the rest the magnitude.
// `drive` is what each line's DAC applies this cycle, as a sign-magnitude value
// (zero, sign 0, when the line is idle):
//   amplitude   (0): the full code for every integration cycle;
//   pulse_width (1): a unit pulse of the code's sign while t < |code| (t counts the
//                    integration cycles of the MAXC-cycle window); the comparison is
//                    the line's comparator in tile_linecmp, shared with the update (lt);
//   bit_serial  (2): a unit pulse of the code's sign when bit `phase` of |code| is 1,
//                    for every integration cycle of that phase (LSB first).
module tile_dac #(
    parameter integer LINES        = 4,
    parameter integer DAC_BITS     = 8,
    parameter integer DAC_ENCODING = 0,
    parameter integer PW           = 3    // width of phase
) (
    input  wire                      en,      // integrating this cycle
    input  wire [PW-1:0]             phase,
    input  wire [LINES-1:0]          lt,      // per line t < |code| (tile_linecmp)
    input  wire [LINES*DAC_BITS-1:0] codes,
    output wire [LINES*DAC_BITS-1:0] drive
);
    localparam integer MW = DAC_BITS - 1;            // magnitude bits
    localparam [MW-1:0] UNIT = 1;

    genvar i;
    generate
        // each encoding reads only its own sequencing inputs
        if (DAC_ENCODING != 1) begin : g_no_t
            wire unused_lt = &{1'b0, lt};
        end
        if (DAC_ENCODING != 2) begin : g_no_phase
            wire unused_phase = &{1'b0, phase};
        end
        for (i = 0; i < LINES; i = i + 1) begin : g_line
            wire          sign = codes[i*DAC_BITS + MW];
            wire [MW-1:0] mag  = codes[i*DAC_BITS +: MW];
            if (DAC_ENCODING == 0) begin : g_amplitude
                assign drive[i*DAC_BITS +: DAC_BITS] = en ? {sign, mag} : {DAC_BITS{1'b0}};
            end else begin : g_pulse
                wire on;
                if (DAC_ENCODING == 1) begin : g_width
                    assign on = lt[i];
                    wire unused_mag = &{1'b0, mag};   // compared in tile_linecmp
                end else begin : g_serial
                    assign on = mag[phase];
                end
                assign drive[i*DAC_BITS +: DAC_BITS] = (en && on) ? {sign, UNIT}
                                                                : {DAC_BITS{1'b0}};
            end
        end
    endgenerate
endmodule
`default_nettype wire
