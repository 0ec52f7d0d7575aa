`timescale 1ns/1ps
`default_nettype none
// Matrix-vector sequencer for FORWARD (dir 0: DACs on rows, ADCs on columns) and
// BACKWARD (dir 1: DACs on columns, ADCs shared over rows). Per input phase:
//   1 cycle        DRIVE    DACs take the phase's codes
//   T cycles       INTEG    integrators integrate (T = INT_CYCLES, or MAXC for
//                           pulse_width); `drive` outputs are live
//   G*K            CONV     G = ceil(lines / ADCS) column-mux groups one after another;
//                           in group g, ADC a converts output line g*ADCS + a; K cycles
//                           per conversion from the ADC kind (tile_adc: sar ADC_BITS,
//                           flash 1, ramp 2^ADC_BITS - 1, cco 1: a cco counts its
//                           oscillator during INTEG and only latches here)
// Phases: DAC_BITS-1 for bit_serial (LSB first), else 1. The counts are the contract
// in codesign/cycles.py (mvm_cycles).
module tile_mvm #(
    parameter integer ROWS         = 4,
    parameter integer COLS         = 4,
    parameter integer ADCS         = 2,
    parameter integer DAC_BITS     = 4,
    parameter integer DAC_ENCODING = 0,
    parameter integer ADC_BITS     = 4,
    parameter integer ADC_KIND     = 0,   // codesign.adckinds RTL_CODES
    parameter integer CMPS         = 1,   // comparators per ADC (tile_adc)
    parameter integer INT_CYCLES   = 2,
    parameter integer GW           = 1,   // width of a group index
    parameter integer PW           = 1,   // width of a phase index
    parameter integer TW           = 2    // width of t, >= DAC_BITS - 1
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     start,     // accept cycle of FORWARD/BACKWARD
    input  wire                     start_dir, // 0 forward, 1 backward
    input  wire [ROWS*DAC_BITS-1:0] row_codes,
    input  wire [COLS*DAC_BITS-1:0] col_codes,
    input  wire [ADCS*CMPS-1:0]     adc_cmp,
    input  wire [ROWS-1:0]          row_lt,    // per row t < |code| (tile_linecmp)
    input  wire [COLS-1:0]          col_lt,    // per column t < |code|
    output wire [DAC_BITS-2:0]      pw_t,      // the pulse counter t, to tile_linecmp
    output wire                     busy,
    output reg                      dir,
    output wire                     drive_cycle,
    output wire                     integ,
    output wire [ROWS*DAC_BITS-1:0] row_dac,
    output wire [COLS*DAC_BITS-1:0] col_dac,
    output wire                     adc_conv,
    output reg  [GW-1:0]            adc_group,
    output wire                     group_load,  // adc_group loads group_next at this edge
    output wire [GW-1:0]            group_next,
    output wire [ADCS-1:0]          adc_en,
    output wire [ADCS*ADC_BITS-1:0] adc_trial,
    output wire [ADCS*ADC_BITS-1:0] adc_result,  // final codes, valid when res_we
    output wire                     res_we,      // last cycle of a group's conversion
    output reg  [PW-1:0]            phase
);
    localparam integer MAXC    = (1 << (DAC_BITS - 1)) - 1;
    localparam integer T       = (DAC_ENCODING == 1) ? MAXC : INT_CYCLES;
    localparam integer PHASES  = (DAC_ENCODING == 2) ? DAC_BITS - 1 : 1;
    localparam integer G_FWD   = (COLS + ADCS - 1) / ADCS;
    localparam integer G_BWD   = (ROWS + ADCS - 1) / ADCS;
    localparam integer T_L = T - 1, P_L = PHASES - 1, GF_L = G_FWD - 1, GB_L = G_BWD - 1;
    localparam [TW-1:0] T_LAST  = T_L[TW-1:0];
    localparam [PW-1:0] P_LAST  = P_L[PW-1:0];
    localparam [GW-1:0] GF_LAST = GF_L[GW-1:0];
    localparam [GW-1:0] GB_LAST = GB_L[GW-1:0];

    localparam [1:0] S_IDLE = 2'd0, S_DRIVE = 2'd1, S_INTEG = 2'd2, S_CONV = 2'd3;
    reg [1:0]    st;
    reg [TW-1:0] t;

    assign busy        = (st != S_IDLE);
    assign drive_cycle = (st == S_DRIVE);
    assign integ       = (st == S_INTEG);
    assign adc_conv    = (st == S_CONV);

    wire conv_last;
    tile_adc #(.ADCS(ADCS), .BITS(ADC_BITS), .ADC_KIND(ADC_KIND), .CMPS(CMPS)) u_adc (
        .clk(clk), .rst(rst), .count(integ), .go(adc_conv), .cmp(adc_cmp),
        .trial(adc_trial), .result(adc_result), .last(conv_last));
    assign res_we = conv_last;

    wire [GW-1:0] g_last = dir ? GB_LAST : GF_LAST;

    // ADC a is idle in a group whose line g*ADCS + a is past the last output line.
    genvar a;
    generate
        for (a = 0; a < ADCS; a = a + 1) begin : g_en
            // last group in which ADC a has a line (-1: none)
            localparam integer GF_A = (a < COLS) ? (COLS - 1 - a) / ADCS : -1;
            localparam integer GB_A = (a < ROWS) ? (ROWS - 1 - a) / ADCS : -1;
            wire real_fwd, real_bwd;
            if (GF_A >= GF_L) begin : g_fwd_all
                assign real_fwd = 1'b1;
            end else begin : g_fwd_some                 // only the last group is short
                assign real_fwd = (adc_group != GF_LAST);
            end
            if (GB_A >= GB_L) begin : g_bwd_all
                assign real_bwd = 1'b1;
            end else if (GB_A < 0) begin : g_bwd_none
                assign real_bwd = 1'b0;
            end else begin : g_bwd_some
                assign real_bwd = (adc_group != GB_LAST);
            end
            assign adc_en[a] = adc_conv && (dir ? real_bwd : real_fwd);
        end
    endgenerate

    tile_dac #(.LINES(ROWS), .DAC_BITS(DAC_BITS), .DAC_ENCODING(DAC_ENCODING),
               .PW(PW)) u_row_dac (
        .en(integ && !dir), .phase(phase), .lt(row_lt), .codes(row_codes), .drive(row_dac));
    tile_dac #(.LINES(COLS), .DAC_BITS(DAC_BITS), .DAC_ENCODING(DAC_ENCODING),
               .PW(PW)) u_col_dac (
        .en(integ && dir), .phase(phase), .lt(col_lt), .codes(col_codes), .drive(col_dac));
    // the pulse counter counts 0 .. MAXC-1 < 2^(DAC_BITS-1) for pulse-width inputs
    assign pw_t = t[DAC_BITS-2:0];
    generate
        if (TW > DAC_BITS - 1) begin : g_t_high
            wire unused_t = &{1'b0, t[TW-1:DAC_BITS-1]};
        end
    endgenerate

    // the output buffer reads ahead (tile_obuf: a memory with a registered read port):
    // the edges that load adc_group below, and the group they load
    assign group_load = (st == S_INTEG && t == T_LAST) ||
                        (st == S_CONV && conv_last && adc_group != g_last);
    assign group_next = (st == S_CONV) ? adc_group + 1'b1 : {GW{1'b0}};

    always @(posedge clk) begin
        if (rst) begin
            st        <= S_IDLE;
            dir       <= 1'b0;
            t         <= {TW{1'b0}};
            adc_group <= {GW{1'b0}};
            phase     <= {PW{1'b0}};
        end else begin
            case (st)
                S_IDLE: if (start) begin
                    st    <= S_DRIVE;
                    dir   <= start_dir;
                    phase <= {PW{1'b0}};
                end
                S_DRIVE: begin
                    st <= S_INTEG;
                    t  <= {TW{1'b0}};
                end
                S_INTEG: begin
                    t <= t + 1'b1;
                    if (t == T_LAST) begin
                        st        <= S_CONV;
                        adc_group <= {GW{1'b0}};
                    end
                end
                default: if (conv_last) begin         // S_CONV
                    if (adc_group != g_last) begin
                        adc_group <= adc_group + 1'b1;
                    end else if (phase != P_LAST) begin
                        phase <= phase + 1'b1;
                        st    <= S_DRIVE;
                    end else begin
                        st <= S_IDLE;
                    end
                end
            endcase
        end
    end
endmodule
`default_nettype wire
