`timescale 1ns/1ps
`default_nettype none
// Outer-product update pulses (UPDATE): 1 prepare cycle, then BL slots of one cycle.
// x codes come from the row buffer, d codes from the column buffer (sign-magnitude).
// Stochastic (UPDATE_MODE 0): row r fires in a slot iff its DAC_BITS-1 bit window of
// its Galois LFSR is < |x_r| (column c likewise with |d_c|); then every LFSR steps. The
// comparison is the line's comparator in tile_linecmp, which the pulse-width drive of
// FORWARD/BACKWARD shares: this block puts each line's window on row_win / col_win and
// takes the comparator's answer on row_lt / col_lt (window < |code| in slot cycles).
// Generators: RNG_SHARED 0, one LFSR per row and per column, each line compares the top
// DAC_BITS-1 bits. RNG_SHARED 1, one LFSR per SH = RNG_LINES consecutive rows (columns;
// rows and columns have separate generators); line k = r mod SH of a group compares the
// window whose top bit is LFSR_BITS-1-k*STEP, STEP = (LFSR_BITS-DAC_BITS+1) / (SH-1), so
// the windows are distinct and spread over the state (codesign.pulses.rng_windows).
// Deterministic (1): n_r = (|x_r| * BL) >> (DAC_BITS-1), row fires iff t < n_r;
// m_c = (|d_c| * BL) >> (DAC_BITS-1), column fires iff a Bresenham accumulator
// (acc += m_c, fire on reaching BL) overflows, i.e. floor((t+1) m/BL) > floor(t m/BL).
// Signs: row_sign = sign(x), col_sign = sign(d) XOR polarity; the cell (r, c) gets a
// pulse of sign row_sign ^ col_sign when both fire. Same generators as codesign.pulses.
module tile_update #(
    parameter integer ROWS        = 4,
    parameter integer COLS        = 4,
    parameter integer DAC_BITS    = 4,
    parameter integer BL          = 8,
    parameter integer UPDATE_MODE = 0,
    parameter integer LFSR_BITS   = 16,
    parameter [31:0]  LFSR_TAPS   = 32'h0000_B400,
    parameter [31:0]  LFSR_SEED   = 32'h0000_ACE1,
    parameter integer RNG_SHARED  = 0,     // 0 one LFSR per line, 1 shared
    parameter integer RNG_LINES   = 8,     // lines per LFSR when shared
    parameter integer PULSE_W     = 8      // width of the per-slot pulse count
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     start,
    input  wire [ROWS*DAC_BITS-1:0] x_codes,
    input  wire [COLS*DAC_BITS-1:0] d_codes,
    input  wire                     polarity,
    input  wire [ROWS-1:0]          row_lt,     // per row: its window < |x_r| (tile_linecmp)
    input  wire [COLS-1:0]          col_lt,     // per column: its window < |d_c|
    output wire [ROWS*(DAC_BITS-1)-1:0] row_win, // each line's window of its generator
    output wire [COLS*(DAC_BITS-1)-1:0] col_win,
    output wire                     busy,
    output wire                     slot,
    output wire [ROWS-1:0]          row_fire,
    output wire [ROWS-1:0]          row_sign,
    output wire [COLS-1:0]          col_fire,
    output wire [COLS-1:0]          col_sign,
    output wire [PULSE_W-1:0]       pulses      // popcount(row_fire) * popcount(col_fire)
);
    localparam integer MW   = DAC_BITS - 1;
    localparam integer TW   = $clog2(BL + 1);
    localparam integer RCW  = $clog2(ROWS + 1);
    localparam integer CCW  = $clog2(COLS + 1);
    localparam integer T_L = BL - 1;
    localparam [TW-1:0] T_LAST = T_L[TW-1:0];
    localparam [TW:0]   BL_W   = BL[TW:0];
    // generator sharing: SH lines per LFSR, NRG row and NCG column generators
    localparam integer SH   = (RNG_SHARED != 0) ? RNG_LINES : 1;
    localparam integer NRG  = (ROWS + SH - 1) / SH;
    localparam integer NCG  = (COLS + SH - 1) / SH;
    localparam integer STEP = (SH > 1) ? (LFSR_BITS - MW) / (SH - 1) : 0;
    // Seed mixing constants (Fibonacci hashing; same as codesign.pulses)
    localparam [31:0] ROW_MIX = 32'h9E37_79B1;
    localparam [31:0] COL_MIX = 32'h85EB_CA6B;

    // ((LFSR_SEED ^ ((idx+1) * mix mod 2^32)) mod 2^LFSR_BITS), all-ones if that is 0
    function [31:0] lfsr_seed;
        input integer idx;
        input [31:0]  mix;
        reg   [31:0]  mask, prod, s;
        begin
            mask = (LFSR_BITS >= 32) ? 32'hFFFF_FFFF : ((32'd1 << LFSR_BITS) - 32'd1);
            prod = idx + 1;
            prod = prod * mix;
            s = (LFSR_SEED ^ prod) & mask;
            lfsr_seed = (s == 32'd0) ? mask : s;
        end
    endfunction

    localparam [1:0] S_IDLE = 2'd0, S_PREP = 2'd1, S_SLOT = 2'd2;
    reg [1:0]    st;
    reg [TW-1:0] t;
    assign busy = (st != S_IDLE);
    assign slot = (st == S_SLOT);

    always @(posedge clk) begin
        if (rst) begin
            st <= S_IDLE;
            t  <= {TW{1'b0}};
        end else begin
            case (st)
                S_IDLE: if (start) st <= S_PREP;
                S_PREP: begin
                    st <= S_SLOT;
                    t  <= {TW{1'b0}};
                end
                S_SLOT: begin
                    t <= t + 1'b1;
                    if (t == T_LAST) st <= S_IDLE;
                end
                default: st <= S_IDLE;
            endcase
        end
    end

    // one state word per generator (zero when deterministic: no generators)
    wire [NRG*LFSR_BITS-1:0] row_states;
    wire [NCG*LFSR_BITS-1:0] col_states;
    /* verilator lint_off UNUSED */
    wire unused_states = &{1'b0, row_states, col_states};  // bits no window reads still step
    /* verilator lint_on UNUSED */

    genvar r, c, g;
    generate
        if (UPDATE_MODE == 0) begin : g_rng
            for (g = 0; g < NRG; g = g + 1) begin : g_rgen
                tile_lfsr #(.WIDTH(LFSR_BITS), .TAPS(LFSR_TAPS),
                            .SEED(lfsr_seed(g, ROW_MIX))) u_lfsr (
                    .clk(clk), .rst(rst), .step(slot),
                    .state(row_states[g*LFSR_BITS +: LFSR_BITS]));
            end
            for (g = 0; g < NCG; g = g + 1) begin : g_cgen
                tile_lfsr #(.WIDTH(LFSR_BITS), .TAPS(LFSR_TAPS),
                            .SEED(lfsr_seed(g, COL_MIX))) u_lfsr (
                    .clk(clk), .rst(rst), .step(slot),
                    .state(col_states[g*LFSR_BITS +: LFSR_BITS]));
            end
        end else begin : g_no_rng
            assign row_states = {(NRG * LFSR_BITS){1'b0}};
            assign col_states = {(NCG * LFSR_BITS){1'b0}};
        end
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            wire [MW-1:0] mag = x_codes[r*DAC_BITS +: MW];
            assign row_sign[r] = slot && x_codes[r*DAC_BITS + MW];
            if (UPDATE_MODE == 0) begin : g_stoch
                // bit (r / SH) * LFSR_BITS + LFSR_BITS-1 - (r % SH) * STEP tops the window
                localparam integer HI = (r / SH) * LFSR_BITS + LFSR_BITS - 1 - (r % SH) * STEP;
                assign row_win[r*MW +: MW] = row_states[HI -: MW];
                assign row_fire[r] = slot && row_lt[r];
                wire unused_mag = &{1'b0, mag};       // compared in tile_linecmp
            end else begin : g_det
                assign row_win[r*MW +: MW] = {MW{1'b0}};
                wire unused_lt = &{1'b0, row_lt[r]};
                wire [MW+TW-1:0] prod = mag * BL_W[TW-1:0];
                wire [TW-1:0]    n = prod[MW+TW-1 -: TW];   // (|x| * BL) >> MW, < BL
                wire unused_frac = &{1'b0, prod[MW-1:0]};
                assign row_fire[r] = slot && (t < n);
            end
        end
        for (c = 0; c < COLS; c = c + 1) begin : g_col
            wire [MW-1:0] mag = d_codes[c*DAC_BITS +: MW];
            assign col_sign[c] = slot && (d_codes[c*DAC_BITS + MW] ^ polarity);
            if (UPDATE_MODE == 0) begin : g_stoch
                localparam integer HI = (c / SH) * LFSR_BITS + LFSR_BITS - 1 - (c % SH) * STEP;
                assign col_win[c*MW +: MW] = col_states[HI -: MW];
                assign col_fire[c] = slot && col_lt[c];
                wire unused_mag = &{1'b0, mag};       // compared in tile_linecmp
            end else begin : g_det
                assign col_win[c*MW +: MW] = {MW{1'b0}};
                wire unused_lt = &{1'b0, col_lt[c]};
                wire [MW+TW-1:0] prod = mag * BL_W[TW-1:0];
                wire [TW-1:0]    m = prod[MW+TW-1 -: TW];   // (|d| * BL) >> MW, < BL
                wire unused_frac = &{1'b0, prod[MW-1:0]};
                reg  [TW:0]      acc;                        // t*m mod BL
                wire [TW:0]      sum = acc + {1'b0, m};
                wire             over = (sum >= BL_W);
                assign col_fire[c] = slot && over;
                always @(posedge clk) begin
                    if (rst || st == S_PREP)
                        acc <= {(TW + 1){1'b0}};
                    else if (slot)
                        acc <= over ? sum - BL_W : sum;
                end
            end
        end
    endgenerate

    wire [RCW-1:0] n_rows;
    wire [CCW-1:0] n_cols;
    tile_popcount #(.WIDTH(ROWS), .OUT_W(RCW)) u_pop_rows (.bits(row_fire), .count(n_rows));
    tile_popcount #(.WIDTH(COLS), .OUT_W(CCW)) u_pop_cols (.bits(col_fire), .count(n_cols));
    assign pulses = n_rows * n_cols;
endmodule
`default_nettype wire
