`timescale 1ns/1ps
`default_nettype none
// Tile controller: the digital side of one analog in-memory tile. The analog array,
// DACs' analog parts, integrators and comparators sit outside, at the ports.
//
// Commands (valid/ready; opcodes as codesign.cycles.OPCODES):
//   0 LOAD_INPUT  cmd_sel 0: row buffer (x / forward input), 1: column buffer (d);
//                 cmd_len words, one per cycle on in_data (in_valid/in_ready)
//   1 FORWARD     row buffer -> row DACs, ADCs on columns, results -> output buffer
//   2 BACKWARD    column buffer -> column DACs, ADCs shared over rows
//   3 UPDATE      stochastic / deterministic coincidence pulses from x and d
//   4 TRANSFER    program-and-verify the capacitor weights into the PCM pair
//   5 READ_OUTPUT cmd_len output words, one per cycle on out_data (out_valid/out_ready)
// A command is accepted when cmd_valid && cmd_ready; `busy` is high for exactly the
// command's cycles (codesign/cycles.py) and the `cycles` counter counts those cycles.
// Spec fields map 1:1 to the parameters below (checked by tests/test_hdl_*.py).
module tile_ctrl #(
    parameter integer ROWS          = 8,
    parameter integer COLS          = 8,
    parameter integer ADCS          = 2,
    parameter integer DAC_BITS      = 8,
    parameter integer DAC_ENCODING  = 0,     // 0 amplitude, 1 pulse_width, 2 bit_serial
    parameter integer ADC_BITS      = 8,
    parameter integer ADC_KIND      = 0,     // 0 sar, 1 flash, 2 ramp, 3 cco (codesign.adckinds)
    parameter integer INT_CYCLES    = 4,
    parameter integer BL            = 31,
    parameter integer UPDATE_MODE   = 0,     // 0 stochastic, 1 deterministic
    parameter integer LFSR_BITS     = 16,
    parameter [31:0]  LFSR_TAPS     = 32'h0000_B400,
    parameter [31:0]  LFSR_SEED     = 32'h0000_ACE1,
    parameter integer RNG_SHARED    = 0,     // 0 one LFSR per line, 1 shared (tile_update)
    parameter integer RNG_LINES     = 8,     // lines per shared LFSR when RNG_SHARED
    parameter integer XFER_MAX_ITER = 20,
    parameter integer POLARITY_INV  = 1,
    parameter integer CNT_BITS      = 32
) (
    input  wire                                  clk,
    input  wire                                  rst,         // synchronous, active high
    // command interface
    input  wire                                  cmd_valid,
    output wire                                  cmd_ready,
    input  wire [2:0]                            cmd_op,
    input  wire                                  cmd_sel,
    input  wire [$clog2((ROWS > COLS ? ROWS : COLS) + 1)-1:0] cmd_len,
    output wire                                  busy,
    // input words (LOAD_INPUT): sign-magnitude DAC codes
    input  wire                                  in_valid,
    output wire                                  in_ready,
    input  wire [DAC_BITS-1:0]                   in_data,
    // output words (READ_OUTPUT): signed ADC results
    output wire                                  out_valid,
    input  wire                                  out_ready,
    output wire [ADC_BITS + (DAC_ENCODING == 2 ? DAC_BITS - 1 : 0)-1:0] out_data,
    // register file: performance counters (see tile_perf.v)
    input  wire [3:0]                            reg_addr,
    output wire [CNT_BITS-1:0]                   reg_rdata,
    // DACs: sign-magnitude value on every word line, live while integ is high
    output wire                                  integ,
    output wire [ROWS*DAC_BITS-1:0]              row_dac,
    output wire [COLS*DAC_BITS-1:0]              col_dac,
    // ADCs (tile_adc): trial codes out, comparator decisions in (per ADC, 2^ADC_BITS - 1
    // thermometer bits for a flash, one decision otherwise; for a cco, the ADC_BITS-bit
    // count of oscillator periods in each integration cycle)
    output wire                                  adc_conv,
    output wire [$clog2((ROWS > COLS ? ROWS : COLS) + 1)-1:0] adc_group,
    output wire [ADCS-1:0]                       adc_en,
    output wire [ADCS*ADC_BITS-1:0]              adc_trial,
    input  wire [ADCS*((ADC_KIND == 1) ? (1 << ADC_BITS) - 1 :
                       (ADC_KIND == 3) ? ADC_BITS : 1)-1:0] adc_cmp,
    // update pulses
    output wire                                  upd_slot,
    output wire [ROWS-1:0]                       row_fire,
    output wire [ROWS-1:0]                       row_sign,
    output wire [COLS-1:0]                       col_fire,
    output wire [COLS-1:0]                       col_sign,
    // transfer: verify answers in, programming pulses out
    output wire                                  xfer_start,
    output wire                                  xfer_verify,
    output wire                                  xfer_pulse,
    output wire [$clog2((ROWS > COLS ? ROWS : COLS) + 1)-1:0] xfer_row,
    input  wire [COLS-1:0]                       xfer_start_reset,
    input  wire [COLS-1:0]                       xfer_start_skip,
    input  wire [COLS-1:0]                       xfer_err_pos,
    input  wire [COLS-1:0]                       xfer_err_neg,
    input  wire [COLS-1:0]                       xfer_sat,
    output wire [COLS-1:0]                       set_plus,
    output wire [COLS-1:0]                       set_minus,
    output wire [COLS-1:0]                       reset_both,
    output wire                                  polarity
);
    // ---- derived sizes ------------------------------------------------------------
    localparam integer MAXL     = (ROWS > COLS) ? ROWS : COLS;
    localparam integer LW       = $clog2(MAXL + 1);           // lengths and indices
    localparam integer OUT_BITS = ADC_BITS + ((DAC_ENCODING == 2) ? DAC_BITS - 1 : 0);
    localparam integer MW       = DAC_BITS - 1;
    localparam integer MAXC     = (1 << MW) - 1;
    localparam integer T        = (DAC_ENCODING == 1) ? MAXC : INT_CYCLES;
    localparam integer TW0      = $clog2(T + 1);
    localparam integer TW       = (TW0 > MW) ? TW0 : MW;
    localparam integer PW0      = $clog2(MW);
    localparam integer PW       = (PW0 > 1) ? PW0 : 1;
    localparam integer G_FWD    = (COLS + ADCS - 1) / ADCS;
    localparam integer G_BWD    = (ROWS + ADCS - 1) / ADCS;
    localparam integer GW0      = $clog2((G_FWD > G_BWD) ? G_FWD : G_BWD);
    localparam integer GW       = (GW0 > 1) ? GW0 : 1;
    localparam integer RW0      = $clog2(ROWS);
    localparam integer RW       = (RW0 > 1) ? RW0 : 1;
    localparam integer RCW      = $clog2(ROWS + 1);
    localparam integer CCW      = $clog2(COLS + 1);
    localparam integer ACW      = $clog2(ADCS + 1);
    localparam integer PULSE_W  = RCW + CCW;                   // popcount * popcount
    localparam integer IW       = (PULSE_W > LW + 1) ? PULSE_W : LW + 1;
    localparam integer CMPS     = (ADC_KIND == 1) ? (1 << ADC_BITS) - 1 :
                                  (ADC_KIND == 3) ? ADC_BITS : 1;   // tile_adc

    localparam [2:0] OP_LOAD = 3'd0, OP_FORWARD = 3'd1, OP_BACKWARD = 3'd2,
                     OP_UPDATE = 3'd3, OP_TRANSFER = 3'd4, OP_READ = 3'd5;

    // ---- command interface ---------------------------------------------------------
    wire mvm_busy, upd_busy, xfer_busy;
    reg  loading, reading, load_sel;
    reg  [LW-1:0] addr, len;
    assign busy      = loading | reading | mvm_busy | upd_busy | xfer_busy;
    assign cmd_ready = !busy;
    wire accept      = cmd_valid && cmd_ready;
    wire has_len     = (cmd_len != {LW{1'b0}});
    wire start_mvm   = accept && (cmd_op == OP_FORWARD || cmd_op == OP_BACKWARD);
    wire start_upd   = accept && (cmd_op == OP_UPDATE);
    wire start_xfer  = accept && (cmd_op == OP_TRANSFER);
    wire start_read  = accept && (cmd_op == OP_READ);

    assign in_ready  = loading;
    assign out_valid = reading;
    wire in_take     = in_valid && loading;
    wire out_take    = out_ready && reading;
    wire last_word   = (addr == len - 1'b1);

    always @(posedge clk) begin
        if (rst) begin
            loading  <= 1'b0;
            reading  <= 1'b0;
            load_sel <= 1'b0;
            addr     <= {LW{1'b0}};
            len      <= {LW{1'b0}};
        end else if (accept) begin
            loading  <= (cmd_op == OP_LOAD) && has_len;
            reading  <= (cmd_op == OP_READ) && has_len;
            load_sel <= cmd_sel;
            addr     <= {LW{1'b0}};
            len      <= cmd_len;
        end else if (in_take || out_take) begin
            addr <= addr + 1'b1;
            if (last_word) begin
                loading <= 1'b0;
                reading <= 1'b0;
            end
        end
    end

    // ---- input buffers: row (x, forward input) and column (d, backward input) -------
    reg [ROWS*DAC_BITS-1:0] rbuf;
    reg [COLS*DAC_BITS-1:0] cbuf;
    genvar i;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_rbuf
            always @(posedge clk) begin
                if (rst)
                    rbuf[i*DAC_BITS +: DAC_BITS] <= {DAC_BITS{1'b0}};
                else if (in_take && !load_sel && addr == i)
                    rbuf[i*DAC_BITS +: DAC_BITS] <= in_data;
            end
        end
        for (i = 0; i < COLS; i = i + 1) begin : g_cbuf
            always @(posedge clk) begin
                if (rst)
                    cbuf[i*DAC_BITS +: DAC_BITS] <= {DAC_BITS{1'b0}};
                else if (in_take && load_sel && addr == i)
                    cbuf[i*DAC_BITS +: DAC_BITS] <= in_data;
            end
        end
    endgenerate

    // ---- per-line comparators: the pulse-width drive and the stochastic update share
    // one per line (tile_linecmp); FORWARD drives the rows, BACKWARD the columns, UPDATE
    // compares both, never in the same cycle
    wire [MW-1:0]          pw_t;
    wire [ROWS*MW-1:0]     row_win;
    wire [COLS*MW-1:0]     col_win;
    wire [ROWS-1:0]         row_lt;
    wire [COLS-1:0]         col_lt;
    tile_linecmp #(.LINES(ROWS), .DAC_BITS(DAC_BITS), .DAC_ENCODING(DAC_ENCODING),
                   .UPDATE_MODE(UPDATE_MODE)) u_row_cmp (
        .sel_win(upd_slot), .t(pw_t), .win(row_win), .codes(rbuf), .lt(row_lt));
    tile_linecmp #(.LINES(COLS), .DAC_BITS(DAC_BITS), .DAC_ENCODING(DAC_ENCODING),
                   .UPDATE_MODE(UPDATE_MODE)) u_col_cmp (
        .sel_win(upd_slot), .t(pw_t), .win(col_win), .codes(cbuf), .lt(col_lt));

    // ---- FORWARD / BACKWARD: input sequencing, ADC control, output buffer -----------
    wire            mvm_dir, mvm_drive, res_we, group_load;
    wire [GW-1:0]   group, group_next;
    wire [PW-1:0]   phase;
    wire [ADCS*ADC_BITS-1:0] adc_result;
    tile_mvm #(.ROWS(ROWS), .COLS(COLS), .ADCS(ADCS), .DAC_BITS(DAC_BITS),
               .DAC_ENCODING(DAC_ENCODING), .ADC_BITS(ADC_BITS), .ADC_KIND(ADC_KIND),
               .CMPS(CMPS), .INT_CYCLES(INT_CYCLES), .GW(GW), .PW(PW), .TW(TW)) u_mvm (
        .clk(clk), .rst(rst), .start(start_mvm), .start_dir(cmd_op == OP_BACKWARD),
        .row_codes(rbuf), .col_codes(cbuf), .adc_cmp(adc_cmp), .row_lt(row_lt),
        .col_lt(col_lt), .pw_t(pw_t), .busy(mvm_busy),
        .dir(mvm_dir), .drive_cycle(mvm_drive), .integ(integ), .row_dac(row_dac),
        .col_dac(col_dac), .adc_conv(adc_conv), .adc_group(group),
        .group_load(group_load), .group_next(group_next), .adc_en(adc_en),
        .adc_trial(adc_trial), .adc_result(adc_result), .res_we(res_we), .phase(phase));
    assign adc_group = {{(LW - GW){1'b0}}, group};

    tile_obuf #(.WORDS(MAXL), .ADCS(ADCS), .ADC_BITS(ADC_BITS), .OUT_BITS(OUT_BITS),
                .BIT_SERIAL(DAC_ENCODING == 2 ? 1 : 0), .GW(GW), .PW(PW)) u_obuf (
        .clk(clk), .rst(rst), .we(res_we), .group(group), .group_load(group_load),
        .group_next(group_next), .phase(phase), .codes(adc_result),
        .rd_start(start_read), .rd_step(out_take), .rdata(out_data));

    // ---- UPDATE --------------------------------------------------------------------
    wire [PULSE_W-1:0] n_pulses;
    tile_update #(.ROWS(ROWS), .COLS(COLS), .DAC_BITS(DAC_BITS), .BL(BL),
                  .UPDATE_MODE(UPDATE_MODE), .LFSR_BITS(LFSR_BITS), .LFSR_TAPS(LFSR_TAPS),
                  .LFSR_SEED(LFSR_SEED), .RNG_SHARED(RNG_SHARED), .RNG_LINES(RNG_LINES),
                  .PULSE_W(PULSE_W)) u_update (
        .clk(clk), .rst(rst), .start(start_upd), .x_codes(rbuf), .d_codes(cbuf),
        .polarity(polarity), .row_lt(row_lt), .col_lt(col_lt), .row_win(row_win),
        .col_win(col_win), .busy(upd_busy), .slot(upd_slot), .row_fire(row_fire),
        .row_sign(row_sign), .col_fire(col_fire), .col_sign(col_sign), .pulses(n_pulses));

    // ---- TRANSFER ------------------------------------------------------------------
    wire [RW-1:0]  row_idx;
    wire [CCW-1:0] n_verify, n_set;
    wire [CCW:0]   n_reset;
    tile_xfer #(.ROWS(ROWS), .COLS(COLS), .MAX_ITER(XFER_MAX_ITER),
                .POLARITY_INV(POLARITY_INV), .RW(RW), .CCW(CCW)) u_xfer (
        .clk(clk), .rst(rst), .start(start_xfer), .start_reset(xfer_start_reset),
        .start_skip(xfer_start_skip),
        .err_pos(xfer_err_pos), .err_neg(xfer_err_neg), .sat(xfer_sat), .busy(xfer_busy),
        .row_start(xfer_start), .verify(xfer_verify), .pulse(xfer_pulse), .row(row_idx),
        .set_plus(set_plus), .set_minus(set_minus), .reset_both(reset_both),
        .polarity(polarity), .n_verify(n_verify), .n_set(n_set), .n_reset(n_reset));
    assign xfer_row = {{(LW - RW){1'b0}}, row_idx};

    // ---- performance counters ------------------------------------------------------
    wire [ACW-1:0] n_conv;
    tile_popcount #(.WIDTH(ADCS), .OUT_W(ACW)) u_pop_adc (.bits(adc_en), .count(n_conv));
    localparam integer IW_ROWS = ROWS, IW_COLS = COLS;
    localparam [IW-1:0] N_ROWS = IW_ROWS[IW-1:0], N_COLS = IW_COLS[IW-1:0];
    localparam [IW-1:0] ZERO = {IW{1'b0}};
    wire [IW-1:0] inc_dac  = mvm_drive ? (mvm_dir ? N_COLS : N_ROWS) : ZERO;
    wire [IW-1:0] inc_int  = mvm_drive ? (mvm_dir ? N_ROWS : N_COLS) : ZERO;
    wire [IW-1:0] inc_conv = res_we ? {{(IW - ACW){1'b0}}, n_conv} : ZERO;
    wire [10*IW-1:0] inc = {
        {{(IW - 1){1'b0}}, in_take},                 // 9 buffer_writes
        {{(IW - 1){1'b0}}, out_take},                // 8 buffer_reads
        {{(IW - CCW){1'b0}}, n_verify},              // 7 verify_reads
        {{(IW - CCW - 1){1'b0}}, n_reset},           // 6 reset_pulses
        {{(IW - CCW){1'b0}}, n_set},                 // 5 set_pulses
        {{(IW - PULSE_W){1'b0}}, n_pulses},          // 4 update_pulses
        inc_conv,                                    // 3 adc_conversions
        inc_int,                                     // 2 integrations
        inc_dac,                                     // 1 dac_settings
        {{(IW - 1){1'b0}}, busy}};                   // 0 cycles
    tile_perf #(.CNT_BITS(CNT_BITS), .IW(IW)) u_perf (
        .clk(clk), .rst(rst), .inc(inc), .polarity(polarity), .busy(busy),
        .addr(reg_addr), .rdata(reg_rdata));
endmodule
`default_nettype wire
